"""Defence in depth on the way out: no log page, API answer or CSV row shows a secret.

The writers (the outbound client, the inbound receiver) store requests already redacted.
These helpers apply ``tenants.redaction`` once more when rows are read, changing a value only
when something sensitive is still visible, so a clean URL or body is shown exactly as sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from django.apps import apps

from tenants.redaction import MASK, is_sensitive_name, redact_headers, redact_mapping, redact_url


class SecretScrubber:
    """Replaces known secret values (each at least 4 characters) in text, in one regex pass."""

    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so a secret containing another is masked whole.
        self.values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self.pattern = (
            re.compile("|".join(re.escape(v) for v in self.values)) if self.values else None
        )

    def __call__(self, text: str) -> str:
        if self.pattern is None or not text:
            return text
        return self.pattern.sub(MASK, text)


def tenant_secret_values(tenant) -> list[str]:
    """Every secret the tenant's endpoints hold (decrypted once per call), for scrubbing."""
    Endpoint = apps.get_model("endpoints", "Endpoint")
    values: list[str] = []
    for endpoint in Endpoint.objects.for_tenant(tenant).only("id", "secrets"):
        values.extend(endpoint.secret_values())
    return values


def endpoint_secret_values(endpoint) -> list[str]:
    return endpoint.secret_values() if endpoint is not None else []


def _pairs_need_masking(pairs: list[tuple[str, str]]) -> bool:
    return any(is_sensitive_name(k) and v != MASK for k, v in pairs)


# name=value pairs of a query string; cheaper than parse_qsl on the hot export path.
_PAIR = re.compile(r"([^=&#]+)=([^&#]*)")


def url_needs_masking(url: str) -> bool:
    """True when ``url`` carries a password or a sensitive query parameter in clear."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password and password != MASK:
            return True
    query = url.partition("?")[2].partition("#")[0]
    if not query:
        return False
    for name, value in _PAIR.findall(query):
        if value == MASK:
            continue
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if is_sensitive_name(name):
            return True
    return False


def safe_url(url: str, scrub: SecretScrubber | None = None) -> str:
    """``url`` unchanged unless it shows a secret; then masked."""
    if not isinstance(url, str):
        return url
    if url_needs_masking(url):
        url = redact_url(url)
    return scrub(url) if scrub else url


def _mapping_needs_masking(value) -> bool:
    if isinstance(value, Mapping):
        return any(
            (is_sensitive_name(str(k)) and not isinstance(v, (dict, list)) and v != MASK)
            or _mapping_needs_masking(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_mapping_needs_masking(v) for v in value)
    return False


def safe_mapping(value):
    """A parsed JSON/form value with sensitive keys masked, untouched when nothing shows."""
    return redact_mapping(value) if _mapping_needs_masking(value) else value


def safe_body(body, scrub: SecretScrubber | None = None):
    """A request/response body with sensitive JSON keys or form fields masked if shown."""
    if not isinstance(body, str) or not body:
        return body
    text = body.lstrip()
    if text[:1] in ("{", "["):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if parsed is not None and _mapping_needs_masking(parsed):
            body = json.dumps(redact_mapping(parsed))
    elif "=" in body and "\n" not in body and " " not in body:
        pairs = parse_qsl(body, keep_blank_values=True)
        if pairs and _pairs_need_masking(pairs):
            # Re-encode through redact_url's query handling so form bodies mask like URLs.
            body = redact_url("?" + body)[1:]
    return scrub(body) if scrub else body


def safe_headers(headers, scrub: SecretScrubber | None = None) -> dict:
    if not isinstance(headers, Mapping):
        return {}
    return redact_headers(headers, scrub.values if scrub else ())


def safe_request(request, scrub: SecretScrubber | None = None) -> dict:
    """A CallLog.request (``method, url, headers, body``) fit to show."""
    if not isinstance(request, Mapping):
        return {}
    return {
        **request,
        "url": safe_url(request.get("url", ""), scrub),
        "headers": safe_headers(request.get("headers") or {}, scrub),
        "body": safe_body(request.get("body", ""), scrub),
    }


def safe_response(response, scrub: SecretScrubber | None = None) -> dict:
    """A CallLog.response (``status_code, headers, body``) fit to show."""
    if not isinstance(response, Mapping):
        return {}
    return {
        **response,
        "headers": safe_headers(response.get("headers") or {}, scrub),
        "body": safe_body(response.get("body", ""), scrub),
    }
