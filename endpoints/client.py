"""The one outbound HTTP path: render, authenticate, sign, send, read the answer — never raise.

``call_sync`` (httpx; the Test panel, one-off sends) and ``call_async`` (aiohttp; the delivery
engine at high concurrency) do the same steps:

1. render the request with ``adaptors.render.render_request`` (pure);
2. add the endpoint's secret headers, ``User-Agent`` and ``Idempotency-Key`` (stable per
   delivery, so a buyer can drop a retried duplicate), then credentials (``endpoints.auth``;
   OAuth2 tokens are cached and refetched once when the buyer answers 401) and, when a signing
   secret is set, the Standard Webhooks headers (``webhook-id`` = the idempotency key);
3. send through the SSRF-guarded transports (``endpoints.ssrf``) with the endpoint's timeout and
   redirects never followed;
4. read at most ``HUB_RESPONSE_BODY_CAP`` bytes for the log (and at most ``PARSE_LIMIT`` to decide
   the outcome — a huge body is never held in memory) and judge it (``endpoints.response``).

Every failure becomes data in the :class:`CallResult`: a short message, ``transient`` True only
for what is worth retrying (timeouts, connection errors, 5xx, 408, 429). The stored request has
every secret redacted (sensitive header names, query parameters, known secret values, the
OAuth2 access token).

``call_async`` must not touch the database: pass endpoints loaded with
``select_related("adaptor")``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

import aiohttp
import httpx
from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from yarl import URL

from adaptors.render import RenderError, render_request
from tenants.redaction import (
    MASK,
    is_sensitive_name,
    redact_mapping,
    redact_text,
    redact_url,
)

from . import auth, signing, ssrf
from .response import ERROR, Verdict, read
from .streams import DeadlineExceeded, read_capped_async, read_capped_sync

logger = logging.getLogger("hub.endpoints")

USER_AGENT = "leadhub/1.0"
# How much of a body is read to decide the outcome (the stored copy is HUB_RESPONSE_BODY_CAP).
PARSE_LIMIT = 1024 * 1024
_SENSITIVE_IN_BODY = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|apikey|credential|auth|signature", re.I
)


@dataclass
class CallResult:
    request: dict  # {"method", "url", "headers", "body"} as sent, secrets redacted
    response: dict  # {"status_code": int | None, "headers": {...}, "body": str (capped)}
    outcome: str  # "accepted" | "rejected" | "error"
    result: str  # success token / buyer's reject reason / short error message
    captured: dict = field(default_factory=dict)
    duration_ms: int = 0
    retry_after: float | None = None
    transient: bool = False


@dataclass
class _Prepared:
    """A rendered request before credentials: reused for the one OAuth2 re-send."""

    endpoint: object
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    idempotency_key: str
    content_type: str
    secrets: list[str]


@dataclass
class _Attempt:
    """What was actually sent (with credentials) and what came back."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    complete: bool = True


def _cap() -> int:
    return int(settings.HUB_RESPONSE_BODY_CAP)


def _read_limit() -> int:
    return max(PARSE_LIMIT, _cap())


def _prepare(
    endpoint, adaptor, fields: Mapping, idempotency_key: str, lead_id, sandbox
) -> _Prepared:
    rendered = render_request(endpoint, adaptor, fields, lead_id=lead_id, sandbox=sandbox)
    headers = dict(rendered.headers)
    for name, value in ((endpoint.secrets or {}).get("headers") or {}).items():
        auth.set_header(headers, name, str(value))
    if not any(k.lower() == "user-agent" for k in headers):
        headers["User-Agent"] = USER_AGENT
    auth.set_header(headers, "Idempotency-Key", idempotency_key)
    return _Prepared(
        endpoint=endpoint,
        method=rendered.method,
        url=rendered.url,
        headers=headers,
        body=rendered.body,
        idempotency_key=idempotency_key,
        content_type=endpoint.content_type,
        secrets=endpoint.secret_values(),
    )


def _attempt(prepared: _Prepared, token: str | None) -> _Attempt:
    """Credentials and signature on a copy of the prepared request (fresh timestamp each time)."""
    endpoint = prepared.endpoint
    headers = dict(prepared.headers)
    url = auth.apply(endpoint, prepared.url, headers, token)
    secret = endpoint.signing_secret
    if secret:
        headers.update(signing.signature_headers(secret, prepared.idempotency_key, prepared.body))
    return _Attempt(method=prepared.method, url=url, headers=headers, body=prepared.body)


# ---- records (what is stored) ---------------------------------------------------------------


def _redact_body(body: bytes, content_type: str, secrets: list[str]) -> str:
    text = body[: _cap()].decode("utf-8", errors="replace")
    if not text or not _SENSITIVE_IN_BODY.search(text):
        return redact_text(text, secrets) if secrets else text
    if content_type in ("form", "query"):
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            masked = [(k, MASK if is_sensitive_name(k) else v) for k, v in pairs]
            return redact_text(urlencode(masked, safe="*"), secrets)
    elif content_type == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return redact_text(text, secrets)
        if isinstance(data, (dict, list)):
            return json.dumps(redact_mapping({"_": data}, secrets)["_"], ensure_ascii=False)
    return redact_text(text, secrets)


_sensitive_header = lru_cache(maxsize=2048)(is_sensitive_name)


def _redact_headers(headers: Mapping, secrets: list[str]) -> dict[str, str]:
    """``tenants.redaction.redact_headers`` with the name check memoised (hot path)."""
    return {
        k: MASK if _sensitive_header(k) else (redact_text(str(v), secrets) if secrets else v)
        for k, v in headers.items()
    }


def _redact_url(url: str, secrets: list[str]) -> str:
    if "?" not in url and "@" not in url:
        return redact_text(url, secrets) if secrets else url
    return redact_url(url, secrets)


def _request_record(
    method: str, url: str, headers: Mapping, body: bytes, content_type: str, secrets: list[str]
) -> dict:
    return {
        "method": method,
        "url": _redact_url(url, secrets),
        "headers": _redact_headers(headers, secrets),
        "body": _redact_body(body, content_type, secrets),
    }


def _result(
    prepared: _Prepared | None,
    attempt: _Attempt | None,
    verdict: Verdict,
    started: float,
    token: str | None,
    endpoint,
    sandbox: bool | None,
) -> CallResult:
    secrets = (prepared.secrets if prepared else []) + ([token] if token else [])
    if attempt is not None and prepared is not None:
        request = _request_record(
            attempt.method,
            attempt.url,
            attempt.headers,
            attempt.body,
            prepared.content_type,
            secrets,
        )
    elif prepared is not None:
        request = _request_record(
            prepared.method,
            prepared.url,
            prepared.headers,
            prepared.body,
            prepared.content_type,
            secrets,
        )
    else:
        request = _unsent_request(endpoint, sandbox)
    if attempt is not None and attempt.status is not None:
        body = attempt.response_body[: _cap()].decode("utf-8", errors="replace")
        response = {
            "status_code": attempt.status,
            "headers": _redact_headers(dict(attempt.response_headers.items()), secrets),
            "body": redact_text(body, secrets) if secrets else body,
        }
    else:
        response = {"status_code": None, "headers": {}, "body": ""}
    return CallResult(
        request=request,
        response=response,
        outcome=verdict.outcome,
        result=redact_text(verdict.result, secrets),
        captured=verdict.captured,
        duration_ms=int((time.monotonic() - started) * 1000),
        retry_after=verdict.retry_after,
        transient=verdict.transient,
    )


def _judge(endpoint, attempt: _Attempt) -> Verdict:
    return read(
        endpoint,
        attempt.status or 0,
        attempt.response_headers,
        attempt.response_body,
        complete=attempt.complete,
        limit=_read_limit(),
    )


def _error(message: str, transient: bool = False) -> Verdict:
    return Verdict(ERROR, message[:500], transient=transient)


def _unsent_request(endpoint, sandbox) -> dict:
    use_sandbox = endpoint.use_sandbox if sandbox is None else sandbox
    url = endpoint.sandbox_url if use_sandbox and endpoint.sandbox_url else endpoint.url
    return {
        "method": endpoint.method,
        "url": redact_url(url, endpoint.secret_values()),
        "headers": {},
        "body": "",
    }


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# ---- sync (httpx) ---------------------------------------------------------------------------


def _send_sync(endpoint, attempt: _Attempt) -> None:
    """Send ``attempt`` and fill in its answer (status, headers, capped body)."""
    ssrf.check_url(attempt.url)
    timeout = float(endpoint.timeout_seconds)
    client = ssrf.sync_client()
    request = client.build_request(
        attempt.method,
        attempt.url,
        headers=attempt.headers,
        content=attempt.body or None,
        timeout=httpx.Timeout(timeout),
    )
    deadline = time.monotonic() + timeout
    response = client.send(request, stream=True, follow_redirects=False)
    try:
        attempt.status = response.status_code
        attempt.response_headers = response.headers
        attempt.response_body, attempt.complete = read_capped_sync(
            response, _read_limit(), deadline
        )
    finally:
        response.close()


def call_sync(
    endpoint,
    fields: Mapping,
    *,
    idempotency_key: str,
    lead_id: int | None = None,
    sandbox: bool | None = None,
) -> CallResult:
    """Send one request for ``fields`` to ``endpoint`` with httpx and judge the answer.

    Never raises: every failure is an ``error`` CallResult (see the module docstring).
    """
    started = time.monotonic()
    prepared: _Prepared | None = None
    attempt: _Attempt | None = None
    token: str | None = None
    timeout = float(endpoint.timeout_seconds)
    try:
        prepared = _prepare(endpoint, endpoint.adaptor, fields, idempotency_key, lead_id, sandbox)
        oauth2 = endpoint.auth_type == "oauth2"
        if oauth2:
            token = auth.token_sync(endpoint, timeout)
        attempt = _attempt(prepared, token)
        _send_sync(endpoint, attempt)
        if oauth2 and attempt.status == 401:
            token = auth.token_sync(endpoint, timeout, refresh=True)
            attempt = _attempt(prepared, token)
            _send_sync(endpoint, attempt)
        verdict = _judge(endpoint, attempt)
    except RenderError as exc:
        verdict = _error(f"cannot build the request: {exc}")
    except ssrf.DestinationRefused as exc:
        verdict = _error(exc.message)
    except auth.TokenError as exc:
        verdict = _error(exc.message, transient=exc.transient)
    except (httpx.TimeoutException, DeadlineExceeded):
        verdict = _error(f"timed out after {endpoint.timeout_seconds} s", transient=True)
    except httpx.ConnectError as exc:
        verdict = _error(f"connection failed: {_short(exc)}", transient=True)
    except httpx.InvalidURL as exc:
        verdict = _error(f"invalid URL: {_short(exc)}")
    except httpx.HTTPError as exc:  # read/write/protocol errors on the wire
        verdict = _error(f"transport error: {_short(exc)}", transient=True)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"; log the bug
        logger.exception("unexpected error calling endpoint %s", getattr(endpoint, "pk", None))
        verdict = _error(f"internal error: {type(exc).__name__}")
    return _result(prepared, attempt, verdict, started, token, endpoint, sandbox)


# ---- async (aiohttp) ------------------------------------------------------------------------


def new_async_session(limit: int | None = None) -> aiohttp.ClientSession:
    """An aiohttp session for :func:`call_async`: SSRF-guarded connector, no cookies, no env
    proxies, a sized pool. Create it inside the running event loop; close it when done."""
    size = limit or max(100, int(settings.HUB_ENDPOINT_CONCURRENCY) * 8)
    return aiohttp.ClientSession(
        connector=ssrf.guarded_connector(limit=size),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=True,
    )


@lru_cache(maxsize=64)
def _client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


async def _send_async(session: aiohttp.ClientSession, endpoint, attempt: _Attempt) -> None:
    """Send ``attempt`` and fill in its answer (status, headers, capped body)."""
    ssrf.check_url(attempt.url)
    async with session.request(
        attempt.method,
        URL(attempt.url, encoded=True),
        data=attempt.body or None,
        headers=attempt.headers,
        allow_redirects=False,
        timeout=_client_timeout(float(endpoint.timeout_seconds)),
    ) as response:
        attempt.status = response.status
        attempt.response_headers = response.headers
        attempt.response_body, attempt.complete = await read_capped_async(response, _read_limit())


async def call_async(
    session: aiohttp.ClientSession,
    endpoint,
    fields: Mapping,
    *,
    idempotency_key: str,
    lead_id: int | None = None,
    sandbox: bool | None = None,
) -> CallResult:
    """:func:`call_sync` over aiohttp with a session from :func:`new_async_session`.

    Never raises (cancellation excepted). The endpoint's adaptor must be preloaded.
    """
    started = time.monotonic()
    prepared: _Prepared | None = None
    attempt: _Attempt | None = None
    token: str | None = None
    timeout = float(endpoint.timeout_seconds)
    try:
        prepared = _prepare(endpoint, endpoint.adaptor, fields, idempotency_key, lead_id, sandbox)
        oauth2 = endpoint.auth_type == "oauth2"
        if oauth2:
            token = await auth.token_async(endpoint, session, timeout)
        attempt = _attempt(prepared, token)
        await _send_async(session, endpoint, attempt)
        if oauth2 and attempt.status == 401:
            token = await auth.token_async(endpoint, session, timeout, refresh=True)
            attempt = _attempt(prepared, token)
            await _send_async(session, endpoint, attempt)
        verdict = _judge(endpoint, attempt)
    except RenderError as exc:
        verdict = _error(f"cannot build the request: {exc}")
    except ssrf.DestinationRefused as exc:
        verdict = _error(exc.message)
    except auth.TokenError as exc:
        verdict = _error(exc.message, transient=exc.transient)
    except TimeoutError:
        verdict = _error(f"timed out after {endpoint.timeout_seconds} s", transient=True)
    except aiohttp.InvalidURL as exc:
        verdict = _error(f"invalid URL: {_short(exc)}")
    except aiohttp.ClientConnectorError as exc:
        verdict = _error(f"connection failed: {_short(exc)}", transient=True)
    except aiohttp.ClientError as exc:  # disconnects, payload and protocol errors
        verdict = _error(f"transport error: {_short(exc)}", transient=True)
    except SynchronousOnlyOperation:
        verdict = _error("endpoint.adaptor was not preloaded (use select_related('adaptor'))")
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"; log the bug
        logger.exception("unexpected error calling endpoint %s", getattr(endpoint, "pk", None))
        verdict = _error(f"internal error: {type(exc).__name__}")
    return _result(prepared, attempt, verdict, started, token, endpoint, sandbox)
