"""Guards of the public receiver: body size, client address allow lists, signatures."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

_CHUNK = 64 * 1024


class BodyTooLarge(ValueError):
    """The request body is over ``settings.HUB_INBOUND_MAX_BYTES``."""


class BadContentLength(ValueError):
    """A Content-Length header that is not a non-negative integer."""


def max_bytes() -> int:
    return int(getattr(settings, "HUB_INBOUND_MAX_BYTES", 1024 * 1024))


def read_body(request: HttpRequest, limit: int | None = None) -> bytes:
    """The request body, never reading more than ``limit + 1`` bytes.

    A declared Content-Length over the limit is refused before anything is read. Without a
    Content-Length (chunked transfer), Django's WSGI request would read nothing, so the WSGI
    input stream is read directly, in chunks, until the limit is passed or the stream ends.
    """
    limit = max_bytes() if limit is None else limit
    declared = request.META.get("CONTENT_LENGTH")
    if declared not in (None, ""):
        try:
            length = int(declared)
        except ValueError as exc:
            raise BadContentLength("Content-Length is not a number.") from exc
        if length < 0:
            raise BadContentLength("Content-Length is negative.")
        if length > limit:
            raise BodyTooLarge(f"The body is over {limit} bytes.")
        return request.read(length) if length else b""
    stream = request.META.get("wsgi.input")
    if stream is None or "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        # ASGI (the body is already spooled) or a body-less request.
        stream = request
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if size > limit:
        raise BodyTooLarge(f"The body is over {limit} bytes.")
    return b"".join(parts)


def parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from REMOTE_ADDR-like text: zone ids dropped, IPv4-mapped IPv6 unwrapped."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The caller's address.

    REMOTE_ADDR, unless ``settings.HUB_TRUSTED_PROXIES`` (a count, default 0) says that many
    reverse proxies append to X-Forwarded-For: then the address those proxies saw.
    """
    proxies = int(getattr(settings, "HUB_TRUSTED_PROXIES", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return parse_ip(hops[-proxies])
    return parse_ip(request.META.get("REMOTE_ADDR"))


def normalise_networks(values: Iterable) -> list[str]:
    """Canonical CIDR strings for an allow list; ValueError naming the first bad entry."""
    networks = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{value!r} is not an IP address or CIDR range.")
        try:
            networks.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IP address or CIDR range.") from exc
    return networks


def ip_allowed(address, allowed: Iterable[str]) -> bool:
    """True when the allow list is empty or ``address`` is inside one of its networks."""
    allowed = list(allowed)
    if not allowed:
        return True
    if address is None:
        return False
    for cidr in allowed:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if address.version == network.version and address in network:
            return True
    return False
