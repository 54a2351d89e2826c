"""The SSRF guard: every non-public address class is refused, in every spelling, by both
transports, and names are connected to exactly the address that was vetted."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.test import override_settings

from endpoints import ssrf

pytestmark = pytest.mark.django_db

guarded = override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=False)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("10.0.0.5", "a private address"),
        ("172.16.3.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("169.254.10.10", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("0.0.0.0", "an unspecified address"),
        ("100.64.0.1", "a non-public address"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.1.2.3", "a private address"),
        ("2002:a00:1::", "a private address"),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),  # NAT64 of 169.254.169.254
    ],
)
def test_each_non_public_class_is_named(address, reason):
    assert ssrf.classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert ssrf.classify(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("012.0.0.5", "10.0.0.5"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("example.com", None),
        ("cafe.example", None),
    ],
)
def test_legacy_numeric_spellings_are_read_as_the_address_they_mean(host, address):
    found = ssrf.literal_ip(host)
    assert (str(found) if found else None) == address


REFUSED_URLS = [
    ("http://2130706433/", "destination 127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1/", "destination 127.0.0.1 is a loopback address"),
    ("http://0x7f.1:8080/", "destination 127.0.0.1 is a loopback address"),
    ("http://10.0.0.5/leads", "destination 10.0.0.5 is a private address"),
    ("http://192.168.0.10/", "destination 192.168.0.10 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "is a cloud metadata address"),
    ("http://[::1]:8000/", "destination ::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]/", "destination ::ffff:7f00:1 (127.0.0.1) is a loopback"),
    ("http://[fd12:3456::1]/", "is a private address"),
    ("http://[fe80::1]/", "is a link-local address"),
    ("http://224.0.0.251/", "is a multicast address"),
    ("http://0.0.0.0:8000/", "is an unspecified address"),
    ("http://localhost:8000/", "is a loopback address"),
]


@guarded
@pytest.mark.parametrize(("url", "message"), REFUSED_URLS)
def test_private_destinations_are_refused_by_both_transports(call, make_endpoint, url, message):
    endpoint = make_endpoint(url)

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", False)
    assert message in result.result
    assert result.response["status_code"] is None


@guarded
def test_the_local_test_server_is_refused_and_never_reached(call, make_endpoint, httpserver):
    httpserver.expect_request("/x").respond_with_data("ok")
    endpoint = make_endpoint(f"http://127.0.0.1:{httpserver.port}/x")

    result = call(endpoint)

    assert result.result == "destination 127.0.0.1 is a loopback address"
    assert httpserver.log == []


def _fake_dns(monkeypatch, table: dict[str, list[str]]):
    """Make names resolve through ``table``: the seam for DNS the guard resolves through."""
    lookups: list[str] = []

    def getaddrinfo(host, port):
        lookups.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in table[host]
        ]

    monkeypatch.setattr(ssrf, "_system_getaddrinfo", getaddrinfo)
    return lookups


@guarded
def test_a_name_resolving_to_a_private_address_is_refused(call, make_endpoint, monkeypatch):
    _fake_dns(monkeypatch, {"buyer.example": ["10.0.0.5"]})
    endpoint = make_endpoint("http://buyer.example/leads")

    result = call(endpoint)

    assert result.result == "destination 10.0.0.5 is a private address"


@guarded
def test_a_name_with_any_private_address_is_refused(call, make_endpoint, monkeypatch):
    # A rebinding name may answer public and private records; which one a later lookup picks
    # is the attacker's choice, so one bad record refuses the name.
    _fake_dns(monkeypatch, {"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    endpoint = make_endpoint("http://rebind.example/leads")

    result = call(endpoint)

    assert result.result == "destination 127.0.0.1 is a loopback address"


def test_the_connection_goes_to_the_address_that_was_resolved_and_vetted(
    call, make_endpoint, httpserver, monkeypatch
):
    # "buyer.example" exists only in our resolver: reaching the server proves the socket was
    # opened to the vetted IP (no second lookup could switch it), with the Host header kept.
    lookups = _fake_dns(monkeypatch, {"buyer.example": ["127.0.0.1"]})
    httpserver.expect_request("/leads").respond_with_data("ok")
    endpoint = make_endpoint(f"http://buyer.example:{httpserver.port}/leads")

    result = call(endpoint)

    assert result.outcome == "accepted", result.result
    assert httpserver.log[0][0].headers["Host"] == f"buyer.example:{httpserver.port}"
    assert lookups == ["buyer.example"]


@guarded
def test_an_oauth2_token_url_on_a_private_address_is_refused(call, make_endpoint):
    endpoint = make_endpoint(
        "https://buyer.example.com/leads",
        auth={
            "type": "oauth2",
            "token_url": "http://169.254.169.254/token",
            "client_id": "c",
        },
        secrets={"client_secret": "s3cr3t-value"},
    )

    result = call(endpoint)

    assert result.result == "destination 169.254.169.254 is a cloud metadata address"


def test_the_setting_allows_private_destinations(call, make_endpoint, httpserver):
    httpserver.expect_request("/x").respond_with_data("ok")
    with override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=True):
        result = call(make_endpoint(f"http://127.0.0.1:{httpserver.port}/x"))
    assert result.outcome == "accepted"


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://127.0.0.1:8000/sandbox/x", True),
        ("http://localhost/x", True),
        ("http://db.internal/x", True),
        ("http://10.1.2.3/x", True),
        ("https://api.hubapi.com/crm/v3/objects/contacts", False),
    ],
)
def test_saving_warns_about_local_destinations_without_dns(url, warned):
    assert (ssrf.local_destination_warning(url) is not None) is warned
