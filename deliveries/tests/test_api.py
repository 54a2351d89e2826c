"""The deliveries API: read-only list/detail with filters, and the retry/cancel actions."""

from __future__ import annotations

from datetime import UTC, timedelta
from datetime import timezone as timezone_offset

import pytest
from django.utils import timezone

from deliveries.models import Delivery, Status
from tests.factories import CallLogFactory, DeliveryFactory, EndpointFactory, LeadFactory
from tests.isolation import TenantIsolationCases

URL = "/api/v1/deliveries/"


class TestDeliveryIsolation(TenantIsolationCases):
    url = URL
    writable = False

    def make(self, tenant):
        return DeliveryFactory(tenant=tenant)


def test_viewer_cannot_retry_or_cancel(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.FAILED)
    assert world.api_a_viewer.post(f"{URL}{delivery.pk}/retry/").status_code == 403
    assert world.api_a_viewer.post(f"{URL}{delivery.pk}/cancel/").status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED


def test_another_tenants_delivery_cannot_be_retried_or_canceled(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.FAILED)
    assert world.api_b.post(f"{URL}{delivery.pk}/retry/").status_code == 404
    assert world.api_b.post(f"{URL}{delivery.pk}/cancel/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED


def test_list_shows_the_contract_fields(world):
    delivery = DeliveryFactory(
        tenant=world.a,
        status=Status.RETRYING,
        attempts=2,
        last_error="HTTP 503",
        captured={"id": 1},
    )
    (row,) = world.api_a.get(URL).json()["results"]
    assert row["id"] == delivery.pk
    assert row["lead"] == delivery.lead_id
    assert row["endpoint"] == delivery.endpoint_id
    assert row["status"] == "retrying"
    assert row["attempts"] == 2
    assert row["last_error"] == "HTTP 503"
    assert row["captured"] == {"id": 1}
    assert row["idempotency_key"] == str(delivery.key)
    assert "next_attempt_at" in row


@pytest.mark.parametrize("param", ["status", "endpoint", "lead"])
def test_list_filters(world, param):
    endpoint = EndpointFactory(tenant=world.a)
    lead = LeadFactory(tenant=world.a)
    wanted = DeliveryFactory(tenant=world.a, endpoint=endpoint, lead=lead, status=Status.REJECTED)
    DeliveryFactory(tenant=world.a)  # other endpoint, other lead, pending
    value = {"status": "rejected", "endpoint": endpoint.pk, "lead": lead.pk}[param]
    ids = [r["id"] for r in world.api_a.get(URL, {param: value}).json()["results"]]
    assert ids == [wanted.pk]


def test_created_range_filters(world):
    old = DeliveryFactory(tenant=world.a)
    new = DeliveryFactory(tenant=world.a)
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    cut = (timezone.now() - timedelta(days=1)).isoformat()
    after = [r["id"] for r in world.api_a.get(URL, {"created_after": cut}).json()["results"]]
    before = [r["id"] for r in world.api_a.get(URL, {"created_before": cut}).json()["results"]]
    assert after == [new.pk]
    assert before == [old.pk]


def test_an_unknown_status_filter_is_a_400_naming_it(world):
    response = world.api_a.get(URL, {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_detail_lists_its_attempts_in_order(world):
    delivery = DeliveryFactory(tenant=world.a, attempts=2, status=Status.ACCEPTED)
    first = CallLogFactory(
        tenant=world.a,
        endpoint=delivery.endpoint,
        delivery=delivery,
        attempt=1,
        outcome="error",
        result="HTTP 500",
        response={"status_code": 500, "headers": {}, "body": ""},
        created_at=timezone.now() - timedelta(minutes=1),
    )
    second = CallLogFactory(
        tenant=world.a, endpoint=delivery.endpoint, delivery=delivery, attempt=2
    )
    CallLogFactory(tenant=world.a)  # another delivery's
    body = world.api_a.get(f"{URL}{delivery.pk}/").json()
    assert [c["id"] for c in body["call_logs"]] == [first.pk, second.pk]
    assert body["call_logs"][0]["outcome"] == "error"
    assert body["call_logs"][0]["status_code"] == 500
    assert body["call_logs"][0]["result"] == "HTTP 500"
    assert body["call_logs"][1]["attempt"] == 2


def test_retry_reopens_a_final_delivery_due_now_with_a_fresh_budget(world):
    delivery = DeliveryFactory(
        tenant=world.a, status=Status.FAILED, attempts=3, next_attempt_at=None, last_error="x"
    )
    response = world.api_a.post(f"{URL}{delivery.pk}/retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.attempts == 3  # history kept
    assert delivery.attempts_base == 3  # the policy counts from here
    assert delivery.next_attempt_at <= timezone.now()
    assert delivery.lease_until is None


def test_retry_of_a_waiting_delivery_makes_it_due_now(world):
    later = timezone.now() + timedelta(hours=1)
    delivery = DeliveryFactory(tenant=world.a, status=Status.RETRYING, next_attempt_at=later)
    assert world.api_a.post(f"{URL}{delivery.pk}/retry/").status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    assert delivery.next_attempt_at < later


def test_cancel_closes_an_open_delivery(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.RETRYING)
    response = world.api_a.post(f"{URL}{delivery.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELED
    assert delivery.last_error == "canceled by operator"
    assert delivery.next_attempt_at is None


def test_cancel_of_a_final_delivery_is_a_400_naming_status(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.ACCEPTED)
    response = world.api_a.post(f"{URL}{delivery.pk}/cancel/")
    assert response.status_code == 400
    assert "status" in response.json()
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED


def test_deliveries_cannot_be_written_through_the_api(world):
    delivery = DeliveryFactory(tenant=world.a)
    assert (
        world.api_a.patch(f"{URL}{delivery.pk}/", {"status": "accepted"}, format="json").status_code
        == 405
    )
    assert world.api_a.delete(f"{URL}{delivery.pk}/").status_code == 405
    assert world.api_a.post(URL, {}, format="json").status_code == 405


@pytest.mark.parametrize(
    "params",
    [
        {"lead": "2.4234403126388012e+16"},
        {"endpoint": str(2**70)},
        {"created_after": "0001-01-01T00:00:00+01:00"},
        {"created_after": "yesterday"},
    ],
)
def test_out_of_range_filter_values_are_a_400_naming_the_filter(world, params):
    response = world.api_a.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_a_date_with_a_large_offset_is_compared_in_utc(world):
    """Python accepts offsets up to ±24 h, PostgreSQL only ±15:59: convert, never a 500."""
    delivery = DeliveryFactory(tenant=world.a)
    odd = world.api_a.get(URL, {"created_before": "0031-05-05T23:47:07.86744+22:31"})
    assert odd.status_code == 200
    assert odd.json()["results"] == []
    stamp = delivery.created_at.astimezone(UTC) + timedelta(hours=1)
    far_east = stamp.astimezone(timezone_offset(timedelta(hours=22, minutes=31))).isoformat()
    ids = [r["id"] for r in world.api_a.get(URL, {"created_before": far_east}).json()["results"]]
    assert ids == [delivery.pk]
