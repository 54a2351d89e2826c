"""Keeping every inbound request as an InboundCall row: what came in and what was answered.

Everything stored is made storable first (PostgreSQL refuses NUL characters and unpaired
surrogates in text and JSON) and capped; secrets are redacted with ``tenants.redaction``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.http import HttpRequest

from logs.models import InboundCall
from tenants.redaction import redact_headers, redact_mapping, redact_text

from .parsing import leaves
from .queries import insert_call
from .responses import Answer

RAW_BODY_CAP = 64 * 1024
MAX_HEADERS = 100
MAX_HEADER_CHARS = 2000
MAX_PARSED = 500
MAX_VALUE_CHARS = 2000


def storable(text: str, cap: int | None = None) -> str:
    """``text`` without NUL or unpaired surrogates (replaced), cut to ``cap`` characters."""
    if cap is not None:
        text = text[:cap]
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def request_headers(meta: Mapping, secrets: list[str]) -> dict[str, str]:
    """The request's headers from WSGI/ASGI META, with secret ones masked."""
    headers: dict[str, str] = {}
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if len(headers) >= MAX_HEADERS:
            break
        name = storable(name.replace("_", "-").title(), 200)
        headers[name] = storable(str(value), MAX_HEADER_CHARS)
    return redact_headers(headers, secrets)


def parsed_for_log(data: object) -> dict:
    """The parsed body as a flat ``{path: value}`` table for the console's Form view."""
    table: dict = {}
    for count, (path, value) in enumerate(leaves(data)):
        if count >= MAX_PARSED:
            table["…"] = f"more than {MAX_PARSED} values"
            break
        table[storable(path, 200)] = _storable_value(value)
    return redact_mapping(table)


def _storable_value(value):
    if isinstance(value, str):
        return storable(value, MAX_VALUE_CHARS)
    if isinstance(value, list):
        return [_storable_value(v) for v in value[:100]]
    return value


class CallRecord:
    """What one request brought in, gathered once and written as one InboundCall."""

    def __init__(self, handler, request: HttpRequest, client_ip):
        self.handler = handler
        self.method = request.method or ""
        self.client_ip = client_ip
        self.content_type = storable(request.META.get("CONTENT_TYPE", ""), 200)
        raw_query = request.META.get("QUERY_STRING", "")
        self.query_bytes = raw_query.encode("latin-1", "replace")
        self.query = storable(self.query_bytes.decode("utf-8", "replace"))
        self.meta = request.META
        self.body = b""
        self.parsed: dict = {}
        self._fixed: dict | None = None

    @property
    def dedupe_key(self) -> str:
        """sha256 over method, body and query: identical calls have identical keys."""
        if self._fixed is not None:
            return self._fixed["dedupe_key"]
        digest = hashlib.sha256(self.method.encode())
        digest.update(b"\0")
        digest.update(self.body)
        digest.update(b"\0")
        digest.update(self.query_bytes)
        return digest.hexdigest()

    def freeze(self) -> None:
        """Prepare now what the row keeps of the request, for a ``row`` made later in
        another thread (the batch writer's, which every call of a batch waits for).

        The body and the parsed table must not change afterwards.
        """
        self._fixed = self._request_fields()

    def _request_fields(self) -> dict:
        secrets = [self.handler.secret] if self.handler.secret else []
        return {
            "tenant_id": self.handler.tenant_id,
            "handler": self.handler,
            "method": self.method[:10],
            "client_ip": str(self.client_ip) if self.client_ip is not None else None,
            "content_type": self.content_type,
            "headers": request_headers(self.meta, secrets),
            "raw_body": redact_text(
                storable(self.body[:RAW_BODY_CAP].decode("utf-8", "replace")), secrets
            ),
            "query": redact_text(self.query, secrets),
            "parsed": self.parsed,
            "dedupe_key": self.dedupe_key,
        }

    def row(self, status: str, answer: Answer, *, error: str = "", lead_id=None) -> InboundCall:
        fixed = self._fixed if self._fixed is not None else self._request_fields()
        return InboundCall(
            **fixed,
            status=status,
            response_status=answer.status_code,
            response_body=storable(answer.body, RAW_BODY_CAP),
            response_content_type=storable(answer.content_type, 100),
            error=storable(error or answer.render_error, 2000),
            lead_id=lead_id,
        )

    def save(self, status: str, answer: Answer, *, error: str = "", lead_id=None) -> None:
        insert_call(self.row(status, answer, error=error, lead_id=lead_id))
