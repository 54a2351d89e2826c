import pytest

from logs.tests.helpers import at, ids, inbound
from tenants.redaction import MASK
from tests.factories import InboundHandlerFactory
from tests.isolation import TenantIsolationCases

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound-calls/"


class TestInboundCallIsolation(TenantIsolationCases):
    url = URL
    writable = False

    def make(self, tenant):
        return inbound(tenant)

    def test_inbound_calls_are_read_only(self, world):
        row = inbound(world.a)
        assert world.api_a.post(URL, {}, format="json").status_code == 405
        assert world.api_a.delete(f"{URL}{row.pk}/").status_code == 405


def test_an_inbound_call_keeps_what_arrived_and_what_was_answered(world):
    handler = InboundHandlerFactory(tenant=world.a, name="Web form")
    row = inbound(
        world.a,
        handler=handler,
        query="src=fb&token=q-secret-1",
        headers={"Content-Type": "application/json", "Authorization": "Basic dXNlcjpwdw=="},
        raw_body='{"phone": "4155550100", "api_key": "k-123456"}',
        parsed={"phone": "4155550100", "api_key": "k-123456"},
        response_status=201,
        response_body='{"status": "accepted"}',
    )
    body = world.api_a.get(f"{URL}{row.pk}/").json()
    assert body["handler"] == handler.pk and body["handler_name"] == "Web form"
    assert body["query"].startswith("src=fb&token=")
    assert "q-secret-1" not in body["query"]
    assert body["response_status"] == 201
    assert body["headers"]["Authorization"] == MASK
    assert body["parsed"]["api_key"] == MASK
    assert "k-123456" not in str(body)
    assert body["parsed"]["phone"] == "4155550100"


def test_handler_filter(world):
    handler = InboundHandlerFactory(tenant=world.a)
    match = inbound(world.a, handler=handler)
    inbound(world.a)
    assert ids(world.api_a.get(URL, {"handler": handler.pk})) == [match.pk]


def test_another_tenants_handler_is_not_a_valid_filter(world):
    foreign = InboundHandlerFactory(tenant=world.b)
    assert world.api_a.get(URL, {"handler": foreign.pk}).status_code == 400


def test_status_filter(world):
    match = inbound(world.a, status="duplicate")
    inbound(world.a, status="success")
    assert ids(world.api_a.get(URL, {"status": "duplicate"})) == [match.pk]
    assert world.api_a.get(URL, {"status": "weird"}).status_code == 400


def test_method_filter(world):
    match = inbound(world.a, method="GET")
    inbound(world.a, method="POST")
    assert ids(world.api_a.get(URL, {"method": "GET"})) == [match.pk]


def test_created_after_and_before(world):
    inbound(world.a, created_at=at(2026, 1, 1))
    inside = inbound(world.a, created_at=at(2026, 1, 5))
    inbound(world.a, created_at=at(2026, 1, 9))
    response = world.api_a.get(URL, {"created_after": "2026-01-03", "created_before": "2026-01-07"})
    assert ids(response) == [inside.pk]
