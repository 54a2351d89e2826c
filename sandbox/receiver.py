"""What a request bin does with one incoming request: check, store redacted, trim, answer.

Limits keep a public bin from filling the database: a body cap (413 beyond), a per-bin rate
limit (429 beyond, with Retry-After) and a per-bin history cap (only the newest requests stay).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from tenants.redaction import MASK, is_sensitive_name, redact_headers, redact_mapping

from .models import BinRequest, RequestBin

logger = logging.getLogger("hub.sandbox")

DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_KEEP_REQUESTS = 1000
DEFAULT_RATE_PER_MINUTE = 600
_RATE_WINDOW_SECONDS = 60


def max_body_bytes() -> int:
    return int(getattr(settings, "HUB_BIN_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def keep_requests() -> int:
    return int(getattr(settings, "HUB_BIN_KEEP_REQUESTS", DEFAULT_KEEP_REQUESTS))


def rate_per_minute() -> int:
    return int(getattr(settings, "HUB_BIN_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE))


class BodyTooLarge(ValueError):
    """The request body is over the bin's size limit."""


@dataclass(frozen=True)
class Refusal:
    """Why a request was not stored: the status to answer and a short message."""

    status: int
    message: str
    retry_after: int | None = None


def rate_limited(bin_id: int, *, now: float | None = None) -> int | None:
    """Count one request against the bin's per-minute budget.

    Returns None while under the budget, else the seconds until the window resets. A fixed
    window in the cache (Redis in production, process memory when embedded) is enough here:
    the goal is a ceiling on writes, not fair queuing.
    """
    now = time.time() if now is None else now
    window = int(now // _RATE_WINDOW_SECONDS)
    key = f"sandbox-rate:{bin_id}:{window}"
    cache.add(key, 0, _RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, _RATE_WINDOW_SECONDS * 2)
        count = 1
    if count > rate_per_minute():
        return max(1, int((window + 1) * _RATE_WINDOW_SECONDS - now))
    return None


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them into memory."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge(f"Body is {declared} bytes; this bin accepts at most {limit}.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(f"Body is over {limit} bytes; this bin accepts at most {limit}.")
    return body


def request_headers(request: HttpRequest) -> dict[str, str]:
    """The request's HTTP headers under their usual names, secrets masked."""
    return redact_headers(dict(request.headers))


def redact_query(query: str) -> str:
    """The query string with values of sensitive parameter names masked."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_sensitive_name(name) for name, _ in pairs):
        return query
    return urlencode(
        [(name, MASK if is_sensitive_name(name) else value) for name, value in pairs], safe="*"
    )


def redact_body(body: str, content_type: str) -> str:
    """Mask values under sensitive keys of a JSON or form body; other bodies stay as sent.

    The text is only re-serialised when something was masked, so operators see the exact
    bytes their adaptor produced whenever no secret is involved.
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return redact_query(body)
    if kind == "application/json" or kind.endswith("+json"):
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if not isinstance(data, (dict, list)):
            return body
        masked = redact_mapping(data)
        return body if masked == data else json.dumps(masked, indent=2)
    return body


def client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def store(bin: RequestBin, request: HttpRequest, body: bytes) -> BinRequest:
    """Save one request of ``bin`` (secrets masked) and drop the ones past the history cap."""
    content_type = request.META.get("CONTENT_TYPE", "")
    text = body.decode("utf-8", errors="replace")
    row = BinRequest.objects.create(
        tenant_id=bin.tenant_id,
        bin=bin,
        method=request.method[:10],
        path=request.path[:2000],
        query=redact_query(request.META.get("QUERY_STRING", "")),
        headers=request_headers(request),
        body=redact_body(text, content_type),
        remote_addr=client_address(request),
    )
    trim(bin.pk, keep_requests())
    return row


def trim(bin_id: int, keep: int) -> int:
    """Delete all but the newest ``keep`` requests of a bin; returns how many went."""
    cutoff = (
        BinRequest.objects.filter(bin_id=bin_id)
        .order_by("-id")
        .values_list("id", flat=True)[keep : keep + 1]
    )
    cutoff_ids = list(cutoff)
    if not cutoff_ids:
        return 0
    deleted, _ = BinRequest.objects.filter(bin_id=bin_id, id__lte=cutoff_ids[0]).delete()
    return deleted


def receive(bin: RequestBin, request: HttpRequest) -> Refusal | BinRequest:
    """Apply the limits, then store the request. Returns the stored row or why it was refused."""
    retry_after = rate_limited(bin.pk)
    if retry_after is not None:
        logger.info("request bin %s rate limited", bin.pk)
        return Refusal(429, "Too many requests to this bin; slow down.", retry_after)
    try:
        body = read_body(request, max_body_bytes())
    except BodyTooLarge as exc:
        logger.info("request bin %s refused a large body: %s", bin.pk, exc)
        return Refusal(413, str(exc))
    return store(bin, request, body)
