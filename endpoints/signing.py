"""Standard Webhooks signatures (https://www.standardwebhooks.com), both directions.

A secret is ``whsec_`` followed by base64 of the key bytes. A signed request carries

    webhook-id:        a unique message id (for deliveries: the Idempotency-Key, stable on retry)
    webhook-timestamp: integer seconds since the epoch
    webhook-signature: "v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>"

``webhook-signature`` may list several space-separated signatures (key rotation); a request is
valid when any ``v1`` entry matches. :func:`sign` / :func:`signature_headers` are used for
outbound deliveries; :func:`verify` is generic and used by inbound handlers as well.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

PREFIX = "whsec_"
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 128


class SignatureError(ValueError):
    """A request whose Standard Webhooks signature is missing, stale or wrong."""


def decode_secret(secret: str) -> bytes:
    """The key bytes of ``whsec_<base64>`` (the prefix is optional); ValueError when malformed."""
    raw = secret.strip()
    if raw.startswith(PREFIX):
        raw = raw[len(PREFIX) :]
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The secret must be 'whsec_' followed by base64.") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(
            f"The secret key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes once decoded."
        )
    return key


def validate_secret(secret: str) -> None:
    """Raise ValueError unless ``secret`` is a well-formed ``whsec_…`` secret."""
    if not secret.strip().startswith(PREFIX):
        raise ValueError("The secret must start with 'whsec_'.")
    decode_secret(secret)


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def _digest(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes | str) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>``."""
    return "v1," + _digest(decode_secret(secret), msg_id, timestamp, _as_bytes(body))


def signature_headers(
    secret: str, msg_id: str, body: bytes | str, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for one request (timestamp defaults to now)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    raise SignatureError(f"Missing {name} header.")


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: int = 300,
    now: float | None = None,
) -> None:
    """Check a Standard Webhooks signature; return None when valid, raise SignatureError if not.

    ``headers`` is any mapping (names compared case-insensitively, so a Django
    ``request.headers`` works); ``body`` is the raw body exactly as received. The timestamp must
    be within ``tolerance`` seconds of ``now`` (default: the current time) in either direction,
    which bounds replays. Signatures are compared in constant time.
    """
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureError("Invalid webhook-timestamp header.") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("The webhook-timestamp is outside the allowed tolerance.")
    try:
        key = decode_secret(secret)
    except ValueError as exc:
        raise SignatureError("The configured secret is malformed.") from exc
    expected = _digest(key, msg_id, stamp, _as_bytes(body))
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return None
    raise SignatureError("No matching signature.")
