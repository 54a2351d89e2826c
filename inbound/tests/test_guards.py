"""Guards of the receiver: signatures, IP allow lists and the body size limit."""

from __future__ import annotations

import io
import json
import time

import pytest

from leads.models import Lead
from logs.models import InboundCall

from .conftest import SECRET, sign

pytestmark = pytest.mark.django_db

BODY = json.dumps({"contact": {"email": "ada@example.com"}}).encode()


# --- signatures ------------------------------------------------------------------------------


def test_correctly_signed_call_is_accepted(make_handler, hooks):
    handler = make_handler(secret=SECRET)
    response = hooks.post(handler, BODY, **sign(SECRET, BODY))
    assert response.status_code == 201, response.content
    call = InboundCall.objects.get()
    assert call.headers["Webhook-Signature"] == "********"


def test_signature_with_several_candidates_passes_when_one_matches(make_handler, hooks):
    handler = make_handler(secret=SECRET)
    headers = sign(SECRET, BODY)
    headers["HTTP_WEBHOOK_SIGNATURE"] = "v1,Zm9vYmFy " + headers["HTTP_WEBHOOK_SIGNATURE"]
    assert hooks.post(handler, BODY, **headers).status_code == 201


def test_missing_signature_is_401(make_handler, hooks):
    handler = make_handler(secret=SECRET)
    response = hooks.post(handler, BODY)
    assert response.status_code == 401
    assert "webhook-id" in response.json()["error"]
    assert not Lead.objects.exists()
    assert InboundCall.objects.get().status == "error"


def test_signature_over_a_different_body_is_401(make_handler, hooks):
    handler = make_handler(secret=SECRET)
    tampered = BODY.replace(b"ada", b"eve")
    response = hooks.post(handler, tampered, **sign(SECRET, BODY))
    assert response.status_code == 401
    assert not Lead.objects.exists()


def test_signature_with_another_secret_is_401(make_handler, hooks):
    handler = make_handler(secret=SECRET)
    other = "whsec_" + "b" * 43 + "="
    response = hooks.post(handler, BODY, **sign(other, BODY))
    assert response.status_code == 401


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_401(make_handler, hooks, skew):
    handler = make_handler(secret=SECRET)
    headers = sign(SECRET, BODY, timestamp=int(time.time()) + skew)
    response = hooks.post(handler, BODY, **headers)
    assert response.status_code == 401
    assert "tolerance" in response.json()["error"]


def test_timestamp_inside_the_tolerance_is_accepted(make_handler, hooks):
    handler = make_handler(secret=SECRET)
    headers = sign(SECRET, BODY, timestamp=int(time.time()) - 240)
    assert hooks.post(handler, BODY, **headers).status_code == 201


def test_without_a_secret_signatures_are_not_required(make_handler, hooks):
    handler = make_handler()
    assert hooks.post(handler, BODY).status_code == 201


# --- IP allow lists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "address", "status"),
    [
        (["203.0.113.0/24"], "203.0.113.77", 201),
        (["203.0.113.0/24"], "203.0.114.1", 403),
        (["198.51.100.7"], "198.51.100.7", 201),
        (["198.51.100.7/32"], "198.51.100.8", 403),
        (["2001:db8::/32"], "2001:db8:1234::1", 201),
        (["2001:db8::/32"], "2001:db9::1", 403),
        (["2001:db8::1"], "2001:db8::1", 201),
        (["203.0.113.0/24"], "::ffff:203.0.113.5", 201),
        (["203.0.113.0/24", "2001:db8::/32"], "2001:db8::5", 201),
        (["2001:db8::/32"], "203.0.113.5", 403),
        (["fe80::/10"], "fe80::1%eth0", 201),
        (["10.0.0.0/8"], "not-an-address", 403),
        ([], "192.0.2.200", 201),
    ],
)
def test_ip_allow_list(make_handler, hooks, allowed, address, status):
    handler = make_handler(allowed_ips=allowed)
    response = hooks.post(handler, BODY, REMOTE_ADDR=address)
    assert response.status_code == status, response.content
    call = InboundCall.objects.get()
    assert call.status == ("success" if status == 201 else "error")
    assert Lead.objects.exists() is (status == 201)


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(make_handler, hooks, settings):
    handler = make_handler(allowed_ips=["203.0.113.0/24"])
    spoofed = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert hooks.post(handler, BODY, **spoofed).status_code == 403
    settings.HUB_TRUSTED_PROXIES = 1
    assert hooks.post(handler, BODY, **spoofed).status_code == 201
    assert InboundCall.objects.filter(status="success").get().client_ip == "203.0.113.5"


# --- size limit ------------------------------------------------------------------------------


class WatchedStream(io.RawIOBase):
    """A WSGI input that counts what is read from it (and can refuse to be read at all)."""

    def __init__(self, data: bytes, readable: bool = True):
        self.data = io.BytesIO(data)
        self.consumed = 0
        self.allow = readable

    def read(self, size=-1):
        assert self.allow, "the body must not be read"
        chunk = self.data.read(size)
        self.consumed += len(chunk)
        return chunk

    def readline(self, size=-1):
        return self.read(size)


def test_declared_content_length_over_the_limit_is_413_without_reading(
    make_handler, hooks, settings
):
    settings.HUB_INBOUND_MAX_BYTES = 1000
    handler = make_handler()
    stream = WatchedStream(b"{}", readable=False)
    response = hooks.client.generic(
        "POST",
        handler.path,
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH="5000000",
        **{"wsgi.input": stream},
    )
    assert response.status_code == 413
    assert stream.consumed == 0
    call = InboundCall.objects.get()
    assert call.status == "error"
    assert call.response_status == 413


def test_chunked_body_over_the_limit_is_413_after_reading_at_most_limit_plus_one(
    make_handler, hooks, settings
):
    settings.HUB_INBOUND_MAX_BYTES = 1000
    handler = make_handler()
    stream = WatchedStream(b"x" * 10_000_000)
    response = hooks.client.generic(
        "POST",
        handler.path,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream},
    )
    assert response.status_code == 413
    assert stream.consumed <= 1001


def test_chunked_body_under_the_limit_is_read_and_accepted(make_handler, hooks, settings):
    settings.HUB_INBOUND_MAX_BYTES = 1000
    handler = make_handler()
    stream = WatchedStream(BODY)
    response = hooks.client.generic(
        "POST",
        handler.path,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream},
    )
    assert response.status_code == 201, response.content
    assert Lead.objects.get().email == "ada@example.com"


def test_body_exactly_at_the_limit_is_accepted(make_handler, hooks, settings):
    body = json.dumps({"contact": {"email": "ada@example.com"}, "first": "A"}).encode()
    settings.HUB_INBOUND_MAX_BYTES = len(body)
    handler = make_handler()
    assert hooks.post(handler, body).status_code == 201
    settings.HUB_INBOUND_MAX_BYTES = len(body) - 1
    assert hooks.post(handler, body).status_code == 413


def test_default_limit_is_one_mebibyte(make_handler, hooks, settings):
    del settings.HUB_INBOUND_MAX_BYTES
    handler = make_handler()
    body = b'{"contact": {"email": "ada@example.com"}, "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert hooks.post(handler, body).status_code == 413


def test_malformed_content_length_is_400(make_handler, hooks):
    handler = make_handler()
    response = hooks.client.generic(
        "POST",
        handler.path,
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH="lots",
        **{"wsgi.input": WatchedStream(BODY, readable=False)},
    )
    assert response.status_code == 400
    assert "Content-Length" in response.json()["error"]
