"""The SSRF guard: outbound calls reach public addresses only, and exactly the address vetted.

Tenants configure the URLs we call, so a URL must never become a way into our own network:
loopback, private (RFC 1918, ULA), link-local, multicast, reserved, unspecified, shared
(carrier-grade NAT) and cloud-metadata addresses are refused, for IPv4 and IPv6 alike, including
IPv4 embedded in IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64) and the legacy numeric IPv4 spellings
the C library still accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``).
``settings.HUB_ALLOW_PRIVATE_DESTINATIONS`` lifts the guard (development, the embedded demo,
tests against a local server).

DNS rebinding cannot switch a vetted name to a private address, because the name is resolved
once, every address it resolves to is vetted, and the socket is opened to one of those vetted
IPs; TLS still verifies and sends SNI for the original host name, and the Host header is the
URL's. Two transports implement that:

- httpx (sync): :func:`sync_client` returns a client whose httpcore network backend is
  :class:`GuardedBackend`.
- aiohttp (async): :func:`guarded_connector` returns a connector with :class:`GuardedResolver`.
  aiohttp does not call a resolver for IP literals, so callers also run :func:`check_url`
  first (it is cheap and gives the clearest message).

A refusal raises :class:`DestinationRefused` ("destination 10.0.0.5 is a private address").
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import threading
from functools import lru_cache
from urllib.parse import urlsplit

import httpcore
import httpx
from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The destination resolves to an address outbound calls may not reach."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Instance-metadata services of the common clouds (AWS/GCP/Azure/OpenStack, AWS ECS, Alibaba,
# AWS IPv6, Azure wire server). Most are caught by the classes below anyway; naming them keeps
# the message precise and covers the ones that sit in otherwise-public space.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "fd00:ec2::254",
        "168.63.129.16",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LEGACY_IPV4 = re.compile(r"^[0-9a-fA-FxX.]+$")


def private_allowed() -> bool:
    return bool(getattr(settings, "HUB_ALLOW_PRIVATE_DESTINATIONS", False))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public destination ("a private address"), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return classify(embedded)
        if ip.teredo is not None:
            return "a Teredo tunnel address"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    if not ip.is_global:
        return "a non-public address"
    return None


def vet_ip(ip: IPAddress) -> None:
    """Raise DestinationRefused unless ``ip`` may be called (or the guard is off)."""
    if private_allowed():
        return
    reason = classify(ip)
    if reason is not None:
        raise DestinationRefused(f"destination {_spell(ip)} is {reason}")


def _spell(ip: IPAddress) -> str:
    """The address as text, naming the IPv4 address an IPv6 one wraps."""
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return f"{ip} ({embedded})" if embedded is not None else str(ip)


def literal_ip(host: str) -> IPAddress | None:
    """The address ``host`` spells literally, in any form the C resolver accepts, else None."""
    host = host.strip("[]").split("%", 1)[0]
    if not host:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        # inet_aton understands what getaddrinfo would: decimal, octal, hex, short forms.
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@lru_cache(maxsize=4096)
def _literal_reason(host: str) -> tuple[str, str] | None:
    ip = literal_ip(host)
    if ip is None:
        return None
    reason = classify(ip)
    return (_spell(ip), reason) if reason else None


def check_url(url: str) -> None:
    """Refuse a URL whose host is a non-public IP literal, without any I/O (names pass here)."""
    if private_allowed():
        return
    host = urlsplit(url).hostname or ""
    found = _literal_reason(host)
    if found is not None:
        raise DestinationRefused(f"destination {found[0]} is {found[1]}")


def local_destination_warning(url: str) -> str | None:
    """A warning when ``url`` obviously points at this machine or a private network.

    Used when an endpoint is saved: IP literals and well-known local names are checked, with no
    DNS lookup (saving must not do network I/O); calls are guarded at send time regardless.
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return None
    ip = literal_ip(host)
    if ip is not None:
        reason = classify(ip)
        return f"{url} points at {reason} ({ip})" if reason else None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return f"{url} points at a local host name ({host})"
    return None


# ---- resolution -----------------------------------------------------------------------------


def _system_getaddrinfo(host: str, port: int) -> list[tuple]:
    """The C resolver; one seam for tests that need a name to resolve somewhere specific."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """``[(family, ip)]`` for ``host``, every address vetted; raises DestinationRefused/OSError.

    All addresses must pass: a name that resolves to a public and a private address is refused,
    since which one a later lookup would pick is up to the attacker.
    """
    ip = literal_ip(host)
    if ip is not None:
        vet_ip(ip)
        return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, str(ip))]
    seen: list[tuple[int, str]] = []
    for family, _type, _proto, _canon, sockaddr in _system_getaddrinfo(host, port):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0]).split("%", 1)[0]
        vet_ip(ipaddress.ip_address(address))
        if (family, address) not in seen:
            seen.append((family, address))
    if not seen:
        raise socket.gaierror(f"no address for {host}")
    return seen


class GuardedBackend(httpcore.SyncBackend):
    """httpcore network backend that connects only to vetted addresses of the host."""

    def connect_tcp(
        self, host, port, timeout=None, local_address=None, socket_options=None
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except OSError as exc:  # name resolution failed: a connection error like any other
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for _family, address in addresses:
            try:
                # A literal IP: create_connection does no further lookup, so no rebinding.
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport over :class:`GuardedBackend`; no proxies from the environment."""

    def __init__(self, *, limits: httpx.Limits):
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )


_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def sync_client() -> httpx.Client:
    """The process-wide guarded httpx client (connection reuse); never follows redirects.

    One client per value of the private-destination setting, so a connection opened while the
    guard was off is never reused once it is on.
    """
    allowed = private_allowed()
    client = _clients.get(allowed)
    if client is None:
        with _clients_lock:
            client = _clients.get(allowed)
            if client is None:
                client = httpx.Client(
                    transport=GuardedTransport(
                        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
                    ),
                    follow_redirects=False,
                    trust_env=False,
                )
                _clients[allowed] = client
    return client


# ---- aiohttp --------------------------------------------------------------------------------


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that vets every address a name resolves to (see :func:`resolve`)."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict]:
        loop = asyncio.get_running_loop()
        try:
            addresses = await loop.run_in_executor(None, resolve, host, port)
        except socket.gaierror as exc:
            raise OSError(exc.errno, f"cannot resolve {host}: {exc.strerror or exc}") from exc
        wanted = [a for a in addresses if family in (0, socket.AF_UNSPEC, a[0])] or addresses
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": fam,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for fam, address in wanted
        ]

    async def close(self) -> None:
        return None


def guarded_connector(limit: int = 0, limit_per_host: int = 0) -> TCPConnector:
    """An aiohttp TCPConnector that resolves through :class:`GuardedResolver`."""
    return TCPConnector(
        resolver=GuardedResolver(), limit=limit, limit_per_host=limit_per_host, ttl_dns_cache=30
    )
