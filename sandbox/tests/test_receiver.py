"""The public request-bin URL: what it stores, what it answers, and its limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from sandbox.models import BinRequest
from sandbox.receiver import rate_limited, redact_body
from tests.factories import RequestBinFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def bin():
    return RequestBinFactory(tenant=TenantFactory())


def test_any_method_is_stored_and_answered_with_the_bins_response(client, bin):
    bin.response_status = 202
    bin.response_content_type = "text/plain"
    bin.response_body = "queued"
    bin.save()

    response = client.put(
        f"/sandbox/{bin.token}?campaign=7",
        data=json.dumps({"first_name": "Ada"}),
        content_type="application/json",
        HTTP_X_SOURCE="crm",
        REMOTE_ADDR="10.1.2.3",
    )

    assert response.status_code == 202
    assert response["Content-Type"] == "text/plain"
    assert response.content == b"queued"
    stored = BinRequest.objects.get(bin=bin)
    assert response["X-Bin-Request-Id"] == str(stored.pk)
    assert stored.tenant_id == bin.tenant_id
    assert (stored.method, stored.path, stored.query) == (
        "PUT",
        f"/sandbox/{bin.token}",
        "campaign=7",
    )
    assert json.loads(stored.body) == {"first_name": "Ada"}
    assert stored.headers["X-Source"] == "crm"
    assert stored.remote_addr == "10.1.2.3"


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete", "options"])
def test_every_method_is_accepted_without_a_csrf_token(client, bin, method):
    response = getattr(client, method)(f"/sandbox/{bin.token}")
    assert response.status_code == 200
    assert BinRequest.objects.get(bin=bin).method == method.upper()


def test_a_sub_path_of_the_bin_is_recorded(client, bin):
    client.post(f"/sandbox/{bin.token}/v3/contacts", data="x", content_type="text/plain")
    assert BinRequest.objects.get(bin=bin).path == f"/sandbox/{bin.token}/v3/contacts"


def test_secrets_in_headers_query_and_body_are_masked(client, bin):
    client.post(
        f"/sandbox/{bin.token}?api_key=SEKRIT123&list=9",
        data=json.dumps({"email": "a@b.co", "auth": {"password": "hunter22"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer tok-abcdef",
        HTTP_X_API_KEY="k-123456",
    )
    stored = BinRequest.objects.get(bin=bin)
    assert stored.headers["Authorization"] == "********"
    assert stored.headers["X-Api-Key"] == "********"
    assert "SEKRIT123" not in stored.query and "list=9" in stored.query
    assert "hunter22" not in stored.body
    assert json.loads(stored.body)["email"] == "a@b.co"


def test_form_bodies_mask_sensitive_fields_and_keep_the_rest():
    assert redact_body("name=Ada&password=pw1234", "application/x-www-form-urlencoded") == (
        "name=Ada&password=********"
    )


def test_a_body_without_secrets_is_kept_byte_for_byte():
    body = '{"b": 1,   "a": [1, 2]}'
    assert redact_body(body, "application/json; charset=utf-8") == body
    assert redact_body("<lead><token>x</token></lead>", "application/xml") == (
        "<lead><token>x</token></lead>"
    )


def test_unknown_bin_answers_404_and_stores_nothing(client):
    response = client.post("/sandbox/no-such-bin", data="{}", content_type="application/json")
    assert response.status_code == 404
    assert "error" in response.json()
    assert not BinRequest.objects.exists()


def test_a_body_over_the_cap_is_refused_with_413(client, bin, settings):
    settings.HUB_BIN_MAX_BODY_BYTES = 100
    assert client.post(f"/sandbox/{bin.token}", "x" * 100, "text/plain").status_code == 200
    response = client.post(f"/sandbox/{bin.token}", "x" * 101, "text/plain")
    assert response.status_code == 413
    assert "100" in response.json()["error"]
    assert BinRequest.objects.filter(bin=bin).count() == 1


def test_only_the_newest_requests_are_kept(client, bin, settings):
    settings.HUB_BIN_KEEP_REQUESTS = 3
    other = RequestBinFactory(tenant=bin.tenant)
    client.post(f"/sandbox/{other.token}", "other", "text/plain")
    for n in range(5):
        client.post(f"/sandbox/{bin.token}", f"n={n}", "text/plain")
    kept = list(BinRequest.objects.filter(bin=bin).order_by("-id").values_list("body", flat=True))
    assert kept == ["n=4", "n=3", "n=2"]
    assert BinRequest.objects.filter(bin=other).count() == 1


def test_past_the_rate_limit_a_bin_answers_429_until_the_window_ends(client, bin, settings):
    settings.HUB_BIN_RATE_PER_MINUTE = 2
    with time_machine.travel(datetime(2026, 5, 1, 12, 0, 15, tzinfo=UTC), tick=False) as clock:
        codes = [client.post(f"/sandbox/{bin.token}").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = client.post(f"/sandbox/{bin.token}")
        assert refused["Retry-After"] == "45"
        assert BinRequest.objects.filter(bin=bin).count() == 2
        clock.move_to(datetime(2026, 5, 1, 12, 1, 0, tzinfo=UTC))
        assert client.post(f"/sandbox/{bin.token}").status_code == 200


def test_rate_limit_counts_each_bin_separately(settings):
    settings.HUB_BIN_RATE_PER_MINUTE = 1
    now = 1_800_000_000.0
    assert rate_limited(1, now=now) is None
    assert rate_limited(2, now=now) is None
    assert rate_limited(1, now=now) == 60 - int(now % 60)


def test_head_and_no_content_statuses_answer_without_a_body(client, bin):
    bin.response_status = 204
    bin.save()
    response = client.post(f"/sandbox/{bin.token}", "{}", "application/json")
    assert response.status_code == 204
    assert response.content == b""
