"""Validation of endpoint settings, shared by the API serializer and the console form.

Every function raises :class:`FieldErrors` (``{field: [message]}``) or ValueError with a message
that names what is wrong, so both front ends answer the same clear 400 / form error.

Secrets: auth secrets (``password``, ``token``, ``params``, ``header_value``,
``client_secret``), the ``signing_secret`` and the values of sensitive headers
(``Authorization``, ``X-Api-Key``, anything named like a token/secret/key) are kept in the
encrypted ``Endpoint.secrets`` as ``{"password": …, "signing_secret": …, "headers": {name:
value}}`` and answered as ``"********"``. Sending ``"********"`` back (or leaving a secret out)
keeps the stored value; ``""``/``null`` clears it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError

from tenants.redaction import MASK, is_sensitive_name

from . import rules, signing, ssrf
from .auth import PUBLIC_KEYS, REQUIRED_KEYS, SECRET_KEYS
from .models import AuthType
from .response import OPS, OPS_NEEDING_VALUE, PathError, check_path, compile_regex

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
LEAD_FIELD_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
# Set by the hub or by the HTTP layer; a configured value would break framing or idempotency.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "idempotency-key",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
MAX_HEADERS = 50
MAX_CAPTURES = 50
MAX_HEADER_VALUE = 8192


class FieldErrors(ValueError):
    """Errors keyed by field name: ``{"auth": ["…"], "success": ["…"]}``."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = {k: list(v) for k, v in errors.items()}


def _is_masked(value) -> bool:
    return value == MASK


# ---- headers --------------------------------------------------------------------------------


def parse_headers_text(text: str) -> list[dict]:
    """``"Name: value|Name2: value2"`` → ``[{"name", "value"}]``; ValueError names the part."""
    headers = []
    for index, part in enumerate(text.split("|"), start=1):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"Part {index} ({part.strip()[:40]!r}) is not 'Name: value'.")
        headers.append({"name": name.strip(), "value": value.strip()})
    return headers


def clean_headers(headers) -> list[dict]:
    """Shape and syntax of ``[{"name", "value"}]``; ValueError names the row."""
    if headers in (None, ""):
        return []
    if not isinstance(headers, list):
        raise ValueError('Expected a list of {"name", "value"} objects.')
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"At most {MAX_HEADERS} headers.")
    cleaned = []
    for index, item in enumerate(headers):
        if not isinstance(item, Mapping) or set(item) - {"name", "value"}:
            raise ValueError(f'Header {index}: expected {{"name", "value"}}.')
        name = str(item.get("name") or "").strip()
        value = item.get("value")
        value = "" if value is None else str(value)
        if not HEADER_NAME.match(name):
            raise ValueError(f"Header {index}: {name!r} is not a valid header name.")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"Header {index}: {name} is set by the hub and cannot be configured.")
        if any(c in value for c in "\r\n\0") or len(value) > MAX_HEADER_VALUE:
            raise ValueError(
                f"Header {index} ({name}): the value must be one line of at most "
                f"{MAX_HEADER_VALUE} characters."
            )
        cleaned.append({"name": name, "value": value})
    return cleaned


def split_headers(
    headers: list[dict], stored_secret_headers: Mapping[str, str]
) -> tuple[list[dict], dict[str, str]]:
    """(public headers, secret headers by name): sensitive names become secrets.

    A sensitive header whose value is ``"********"`` keeps the stored value.
    """
    public: list[dict] = []
    secret: dict[str, str] = {}
    stored = {k.lower(): (k, v) for k, v in (stored_secret_headers or {}).items()}
    for item in headers:
        name, value = item["name"], item["value"]
        if not is_sensitive_name(name):
            public.append(item)
            continue
        if _is_masked(value):
            if name.lower() not in stored:
                raise ValueError(f"Header {name}: there is no stored value to keep.")
            value = stored[name.lower()][1]
        secret[name] = value
    return public, secret


def headers_for_display(public: list[dict], secret: Mapping[str, str]) -> list[dict]:
    return list(public or []) + [{"name": name, "value": MASK} for name in (secret or {})]


# ---- auth -----------------------------------------------------------------------------------


def clean_auth(data, stored_auth: Mapping, stored_secrets: Mapping) -> tuple[dict, dict]:
    """(public auth settings, auth secrets) from an ``auth`` object; ValueError with a message.

    Omitted or ``"********"`` secrets keep the stored value when the type is unchanged.
    """
    if data in (None, {}):
        data = {"type": AuthType.NONE}
    if not isinstance(data, Mapping):
        raise ValueError('Expected an object like {"type": "basic", ...}.')
    kind = data.get("type") or AuthType.NONE
    if kind not in SECRET_KEYS:
        raise ValueError(f"Unknown auth type {kind!r}; use one of {', '.join(SECRET_KEYS)}.")
    allowed = {"type", *PUBLIC_KEYS[kind], *SECRET_KEYS[kind]}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"Unknown key(s) for {kind} auth: {', '.join(unknown)}.")
    same_type = (stored_auth or {}).get("type", AuthType.NONE) == kind
    public = {"type": kind}
    for key in PUBLIC_KEYS[kind]:
        value = data.get(key)
        if value not in (None, ""):
            public[key] = str(value).strip()
    secrets: dict[str, str] = {}
    for key in SECRET_KEYS[kind]:
        value = data.get(key, MASK)
        if _is_masked(value):
            if same_type and (stored_secrets or {}).get(key):
                secrets[key] = stored_secrets[key]
        elif value not in (None, ""):
            secrets[key] = str(value)
    missing = [k for k in REQUIRED_KEYS[kind] if not (public.get(k) or secrets.get(k))]
    if missing:
        raise ValueError(f"{kind} auth needs {', '.join(missing)}.")
    _check_auth_values(kind, public, secrets)
    return public, secrets


def _check_auth_values(kind: str, public: dict, secrets: dict) -> None:
    if kind == "header":
        name = public["header_name"]
        if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header_name {name!r} is not a usable header name.")
        if any(c in secrets["header_value"] for c in "\r\n\0"):
            raise ValueError("header_value must be one line.")
    elif kind == "query":
        params = secrets["params"].strip().lstrip("?&")
        if not parse_qsl(params) or any(c in params for c in " \r\n#"):
            raise ValueError("params must be a query string like 'api_key=X&credential=Y'.")
    elif kind == "oauth2":
        parts = urlsplit(public["token_url"])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("token_url must be an http(s) URL.")
        if public.get("client_auth", "body") not in ("body", "basic"):
            raise ValueError("client_auth must be 'body' or 'basic'.")
    elif kind == "basic" and ":" in public.get("username", ""):
        raise ValueError("username cannot contain ':'.")


def auth_for_display(public: Mapping, secrets: Mapping) -> dict:
    shown = dict(public or {"type": AuthType.NONE})
    shown.setdefault("type", AuthType.NONE)
    for key in SECRET_KEYS.get(shown["type"], ()):
        if (secrets or {}).get(key):
            shown[key] = MASK
    return shown


def clean_signing_secret(value) -> str:
    """'' clears; otherwise a well-formed ``whsec_…`` secret (ValueError)."""
    if value in (None, ""):
        return ""
    signing.validate_secret(str(value))
    return str(value).strip()


# ---- response reading -----------------------------------------------------------------------


def clean_path(path, response_format: str) -> str:
    if path in (None, ""):
        return ""
    try:
        check_path(str(path), response_format)
    except PathError as exc:
        raise ValueError(str(exc)) from exc
    return str(path)


def clean_success(success, response_format: str) -> dict | None:
    """``{"path", "op", "value"?}`` or None (any 2xx is success)."""
    if success in (None, {}):
        return None
    if not isinstance(success, Mapping):
        raise ValueError('Expected {"path", "op", "value"} or null.')
    unknown = sorted(set(success) - {"path", "op", "value"})
    if unknown:
        raise ValueError(f"Unknown key(s): {', '.join(unknown)}.")
    op = success.get("op")
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}.")
    path = success.get("path")
    if not path:
        raise ValueError("path is required.")
    try:
        check_path(str(path), response_format)
    except PathError as exc:
        raise ValueError(f"path: {exc}") from exc
    cleaned = {"path": str(path), "op": op}
    if op in OPS_NEEDING_VALUE:
        value = success.get("value")
        if value is None or isinstance(value, (dict, list)):
            raise ValueError(f"op {op} needs a value (a string, number or boolean).")
        if op == "regex":
            try:
                compile_regex(str(value))
            except PathError as exc:
                raise ValueError(f"value: {exc}") from exc
        cleaned["value"] = value
    return cleaned


def clean_capture(capture, response_format: str) -> list[dict]:
    if capture in (None, ""):
        return []
    if not isinstance(capture, list):
        raise ValueError('Expected a list of {"path", "lead_field"} objects.')
    if len(capture) > MAX_CAPTURES:
        raise ValueError(f"At most {MAX_CAPTURES} captures.")
    cleaned = []
    for index, item in enumerate(capture):
        if not isinstance(item, Mapping) or set(item) - {"path", "lead_field"}:
            raise ValueError(f'Capture {index}: expected {{"path", "lead_field"}}.')
        field = str(item.get("lead_field") or "")
        if not LEAD_FIELD_NAME.match(field):
            raise ValueError(f"Capture {index}: lead_field {field!r} is not a field name.")
        try:
            check_path(str(item.get("path") or ""), response_format)
        except PathError as exc:
            raise ValueError(f"Capture {index}: {exc}") from exc
        cleaned.append({"path": str(item["path"]), "lead_field": field})
    return cleaned


# ---- routing rules (owned by endpoints.rules / leads.conditions) --------------------------------


def run_rule(validator: Callable[[object], None], value) -> None:
    """Call a routing validator, turning its ValueError/ValidationError into ValueError."""
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from exc


def rule_validators() -> dict[str, Callable[[object], None]]:
    from leads.conditions import validate as validate_condition

    return {
        "filters": validate_condition,
        "caps": rules.validate_caps,
        "schedule": rules.validate_schedule,
        "geo": rules.validate_geo,
        "retry": rules.validate_retry,
    }


# ---- destinations ---------------------------------------------------------------------------


def clean_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Enter an http:// or https:// URL.")
    return url


def destination_warnings(**urls: str) -> list[str]:
    """Warnings for URLs that point at loopback/private space (saved, but refused at send time
    unless HUB_ALLOW_PRIVATE_DESTINATIONS is on)."""
    warnings = []
    for field, url in urls.items():
        warning = ssrf.local_destination_warning(url) if url else None
        if warning:
            state = (
                "allowed here because HUB_ALLOW_PRIVATE_DESTINATIONS is on"
                if ssrf.private_allowed()
                else "deliveries to it will be refused unless HUB_ALLOW_PRIVATE_DESTINATIONS is on"
            )
            warnings.append(f"{field}: {warning}; {state}.")
    return warnings


def endpoint_warnings(endpoint) -> list[str]:
    """``destination_warnings`` for every URL an endpoint (or an unsaved preview) calls."""
    auth = getattr(endpoint, "auth", None) or {}
    token_url = auth.get("token_url", "") if auth.get("type") == "oauth2" else ""
    return destination_warnings(
        url=endpoint.url, sandbox_url=endpoint.sandbox_url, token_url=token_url
    )
