"""Credentials on outbound requests: none, basic, bearer, query, header and OAuth2.

Non-secret settings live in ``Endpoint.auth`` (``{"type", "username", "header_name", …}``); the
secrets (``password``, ``token``, ``params``, ``header_value``, ``client_secret``) live in the
encrypted ``Endpoint.secrets``. :func:`apply` adds credentials to a rendered request.

OAuth2 is the client-credentials grant: the token is fetched from ``token_url`` through the same
SSRF-guarded transports as deliveries, cached until its expiry minus a margin (in Django's cache
keyed by endpoint id + updated_at, so changing the endpoint drops it, with a per-process memo in
front so the hot path does not hit Redis per call), and refetched once when the buyer answers
401 (the caller decides that; see ``endpoints.client``). The client authenticates with
``client_secret_post`` (id and secret in the form body) by default, or HTTP Basic when
``auth.client_auth`` is ``"basic"``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from urllib.parse import quote, urlencode

import aiohttp
from django.core.cache import cache
from yarl import URL

from . import ssrf
from .streams import read_capped_async, read_capped_sync

SECRET_KEYS = {
    "none": (),
    "basic": ("password",),
    "bearer": ("token",),
    "query": ("params",),
    "header": ("header_value",),
    "oauth2": ("client_secret",),
}
PUBLIC_KEYS = {
    "none": (),
    "basic": ("username",),
    "bearer": (),
    "query": (),
    "header": ("header_name",),
    "oauth2": ("token_url", "client_id", "scope", "client_auth"),
}
REQUIRED_KEYS = {
    "none": (),
    "basic": ("username", "password"),
    "bearer": ("token",),
    "query": ("params",),
    "header": ("header_name", "header_value"),
    "oauth2": ("token_url", "client_id", "client_secret"),
}
TOKEN_BODY_CAP = 64 * 1024
TOKEN_DEFAULT_LIFETIME = 3600
TOKEN_MAX_MARGIN = 60


class TokenError(Exception):
    """The OAuth2 token endpoint did not give a usable token."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient


def set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set ``name`` replacing any existing header of the same name in another case."""
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
    headers[name] = value


def append_query(url: str, params: str) -> str:
    params = params.strip().lstrip("?&")
    if not params:
        return url
    base, _, fragment = url.partition("#")
    joined = base + ("&" if "?" in base else "?") + params
    return joined + ("#" + fragment if fragment else "")


def apply(endpoint, url: str, headers: dict[str, str], token: str | None = None) -> str:
    """Add the endpoint's credentials: mutates ``headers`` and returns the (possibly new) URL.

    ``token`` is the OAuth2 access token (required for oauth2, ignored otherwise).
    """
    kind = endpoint.auth_type
    auth = endpoint.auth or {}
    secrets = endpoint.secrets or {}
    if kind == "basic":
        pair = f"{auth.get('username', '')}:{secrets.get('password', '')}".encode()
        set_header(headers, "Authorization", "Basic " + base64.b64encode(pair).decode())
    elif kind == "bearer":
        set_header(headers, "Authorization", f"Bearer {secrets.get('token', '')}")
    elif kind == "query":
        url = append_query(url, str(secrets.get("params", "")))
    elif kind == "header":
        set_header(headers, auth.get("header_name", ""), str(secrets.get("header_value", "")))
    elif kind == "oauth2":
        set_header(headers, "Authorization", f"Bearer {token or ''}")
    return url


# ---- OAuth2 client credentials ----------------------------------------------------------------

_memo: dict[str, tuple[str, float]] = {}
_inflight: dict[tuple[int, str], asyncio.Task] = {}


def _cache_key(endpoint) -> str:
    stamp = endpoint.updated_at.timestamp() if endpoint.updated_at else 0
    return f"hub:oauth2:{endpoint.pk}:{stamp:.6f}"


def cached_token(endpoint) -> str | None:
    key = _cache_key(endpoint)
    now = time.time()
    hit = _memo.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    stored = cache.get(key)
    if isinstance(stored, dict) and stored.get("expires_at", 0) > now:
        _memo[key] = (stored["token"], stored["expires_at"])
        return stored["token"]
    return None


def remember_token(endpoint, token: str, expires_in: float) -> None:
    """Cache ``token`` until ``expires_in`` minus a margin (10 %, at most a minute)."""
    lifetime = expires_in - min(TOKEN_MAX_MARGIN, expires_in / 10)
    if lifetime <= 1:
        return
    key = _cache_key(endpoint)
    expires_at = time.time() + lifetime
    _memo[key] = (token, expires_at)
    cache.set(key, {"token": token, "expires_at": expires_at}, timeout=int(lifetime))


def forget_token(endpoint) -> None:
    key = _cache_key(endpoint)
    _memo.pop(key, None)
    cache.delete(key)


def token_request(endpoint) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, form body) of the client-credentials token request."""
    auth = endpoint.auth or {}
    secret = str((endpoint.secrets or {}).get("client_secret", ""))
    data = {"grant_type": "client_credentials"}
    if auth.get("scope"):
        data["scope"] = auth["scope"]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    if auth.get("client_auth") == "basic":
        # RFC 6749 2.3.1: id and secret are form-encoded before the Basic encoding.
        pair = f"{quote(auth.get('client_id', ''), safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        data["client_id"] = auth.get("client_id", "")
        data["client_secret"] = secret
    return auth.get("token_url", ""), headers, urlencode(data).encode()


def parse_token_response(status: int, body: bytes) -> tuple[str, float]:
    """(access_token, expires_in seconds) from a token endpoint answer; raises TokenError."""
    if not 200 <= status < 300:
        raise TokenError(
            f"OAuth2 token request failed: HTTP {status}",
            transient=status >= 500 or status in (408, 429),
        )
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise TokenError("OAuth2 token response is not JSON") from exc
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenError("OAuth2 token response has no access_token")
    try:
        expires_in = float(data.get("expires_in") or TOKEN_DEFAULT_LIFETIME)
    except (TypeError, ValueError):
        expires_in = TOKEN_DEFAULT_LIFETIME
    return token, expires_in


def token_sync(endpoint, timeout: float, *, refresh: bool = False) -> str:
    """The access token, cached or fetched now.

    Raises TokenError, DestinationRefused, streams.DeadlineExceeded or httpx.HTTPError.
    """
    if refresh:
        forget_token(endpoint)
    else:
        hit = cached_token(endpoint)
        if hit:
            return hit
    url, headers, body = token_request(endpoint)
    ssrf.check_url(url)
    request = ssrf.sync_client().build_request(
        "POST", url, headers=headers, content=body, timeout=timeout
    )
    response = ssrf.sync_client().send(request, stream=True)
    try:
        data, complete = read_capped_sync(response, TOKEN_BODY_CAP, time.monotonic() + timeout)
    finally:
        response.close()
    if not complete:
        raise TokenError("OAuth2 token response is too large")
    token, expires_in = parse_token_response(response.status_code, data)
    remember_token(endpoint, token, expires_in)
    return token


async def _fetch_async(endpoint, session: aiohttp.ClientSession, timeout: float) -> str:
    url, headers, body = token_request(endpoint)
    ssrf.check_url(url)
    async with session.post(
        URL(url, encoded=True),
        data=body,
        headers=headers,
        allow_redirects=False,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as response:
        data, complete = await read_capped_async(response, TOKEN_BODY_CAP)
        status = response.status
    if not complete:
        raise TokenError("OAuth2 token response is too large")
    token, expires_in = parse_token_response(status, data)
    remember_token(endpoint, token, expires_in)
    return token


async def token_async(
    endpoint, session: aiohttp.ClientSession, timeout: float, *, refresh: bool = False
) -> str:
    """Like :func:`token_sync` over aiohttp; concurrent callers share one fetch per endpoint.

    Raises TokenError, DestinationRefused, aiohttp.ClientError or asyncio.TimeoutError.
    """
    if refresh:
        forget_token(endpoint)
    else:
        hit = cached_token(endpoint)
        if hit:
            return hit
    loop = asyncio.get_running_loop()
    key = (id(loop), _cache_key(endpoint))
    task = _inflight.get(key)
    if task is None:
        task = loop.create_task(_fetch_async(endpoint, session, timeout))
        _inflight[key] = task
        task.add_done_callback(lambda _t: _inflight.pop(key, None))
    return await asyncio.shield(task)
