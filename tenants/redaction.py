"""Secret redaction, written once: headers, query strings, bodies and known secret values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "********"

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "webhook-signature",
        "x-hub-signature",
        "x-hub-signature-256",
    }
)
_SENSITIVE_NAME = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|apikey|credential|auth|signature)", re.I
)


@lru_cache(maxsize=4096)
def is_sensitive_name(name: str) -> bool:
    # Names repeat across calls and rows (the same payload shapes, headers and parameters):
    # each is decided once.
    return name.lower() in SENSITIVE_HEADERS or bool(_SENSITIVE_NAME.search(name))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each known secret (len >= 4) in ``text``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    secrets = list(secrets)
    return {
        k: (MASK if is_sensitive_name(k) else redact_text(str(v), secrets))
        for k, v in headers.items()
    }


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """Mask query parameters with sensitive names and any known secret value."""
    secrets = list(secrets)
    parts = urlsplit(url)
    if parts.query:
        pairs = [
            (k, MASK if is_sensitive_name(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(pairs, safe="*"))
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(parts.password, MASK))
    return redact_text(urlunsplit(parts), secrets)


def redact_mapping(data: Mapping, secrets: Iterable[str] = ()) -> dict:
    """Recursively mask values under sensitive keys and known secret values."""
    secrets = list(secrets)

    def walk(value, key=""):
        if key and is_sensitive_name(key) and not isinstance(value, (dict, list)):
            return MASK
        if isinstance(value, Mapping):
            # Header rows like {"name": "Authorization", "value": "..."} hide their value.
            if is_sensitive_name(str(value.get("name", ""))) and "value" in value:
                return {**value, "value": MASK}
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            if value.startswith(("http://", "https://")):
                value = redact_url(value)
            return redact_text(value, secrets)
        return value

    return walk(data)
