"""The in-process engine end to end: claim → send over real HTTP → record (eager tasks)."""

from __future__ import annotations

import json
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from deliveries.dispatcher import claim_due, dispatch_due
from deliveries.engine import Engine, Job, deadline_of, get_engine
from deliveries.models import Delivery, Status
from logs.models import CallLog
from tests.factories import TenantFactory

from .factories import delivery_for, endpoint_for, eventually
from .receiver import HOLD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_engine")]


@pytest.fixture
def tenant():
    return TenantFactory()


def drain() -> None:
    dispatch_due()
    assert get_engine().wait_idle(20)


def test_a_due_delivery_is_sent_with_its_key_and_recorded(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url("/leads"))
    delivery = delivery_for(endpoint)
    drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED
    assert delivery.attempts == 1
    (request,) = receiver.received("/leads")
    assert request.headers["Idempotency-Key"] == str(delivery.key)
    assert json.loads(request.body) == {"first": "Ada", "phone": "+14155550100"}
    log = CallLog.objects.get(delivery=delivery)
    assert (log.outcome, log.attempt, log.response["status_code"]) == ("accepted", 1, 200)


def test_a_server_error_is_retried_later_with_the_same_key(tenant, receiver):
    receiver.script("/leads", [(500, b'{"error": "down"}'), (200, b"{}")])
    endpoint = endpoint_for(
        tenant, receiver.url("/leads"), retry={"max_attempts": 3, "backoff_seconds": 0}
    )
    delivery = delivery_for(endpoint)
    drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED
    assert delivery.attempts == 2
    keys = {r.headers["Idempotency-Key"] for r in receiver.received("/leads")}
    assert keys == {str(delivery.key)}
    assert list(
        CallLog.objects.filter(delivery=delivery)
        .order_by("attempt")
        .values_list("attempt", "outcome")
    ) == [(1, "error"), (2, "accepted")]


def test_an_inactive_endpoint_is_canceled_without_a_call(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url("/leads"), active=False)
    delivery = delivery_for(endpoint)
    drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELED
    assert delivery.last_error == "endpoint inactive"
    assert receiver.received() == []
    assert not CallLog.objects.exists()


def claimed_jobs(*, lease_left: float | None = None) -> list[Job]:
    """Claim every due delivery and build its jobs as send_batch does; ``lease_left``
    pretends the claim was made long ago and only that many seconds remain."""
    ids, claim = claim_due(100)
    deliveries = Delivery.objects.filter(pk__in=ids).select_related("lead", "endpoint__adaptor")
    deadline = deadline_of(claim) if lease_left is None else time.monotonic() + lease_left
    return [Job(d, claim, deadline) for d in deliveries]


def test_a_lease_too_short_for_the_timeout_hands_the_delivery_back_unsent(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url("/leads"), timeout_seconds=10)
    delivery = delivery_for(endpoint)
    engine = get_engine()
    engine.submit(claimed_jobs(lease_left=5))
    assert engine.wait_idle(20)
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.attempts == 0
    assert delivery.lease_until is None
    assert delivery.next_attempt_at <= timezone.now()  # due again at once, with a new lease
    assert receiver.received() == []


@override_settings(HUB_DELIVERY_LEASE_SECONDS=5)
def test_a_timeout_longer_than_any_lease_is_sent_anyway(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url("/leads"), timeout_seconds=10)
    delivery = delivery_for(endpoint)
    drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED
    assert len(receiver.received()) == 1


@override_settings(HUB_ENDPOINT_CONCURRENCY=2)
def test_a_hanging_buyer_holds_only_its_own_slots(tenant, receiver):
    receiver.script("/hang", [HOLD])
    hanging = endpoint_for(tenant, receiver.url("/hang"), timeout_seconds=30)
    healthy = endpoint_for(tenant, receiver.url("/ok"))
    stuck = [delivery_for(hanging, due_in=-60) for _ in range(6)]
    fine = [delivery_for(healthy, due_in=-1) for _ in range(10)]
    dispatch_due()
    # Everything to the healthy buyer is recorded while the hanging one still holds its calls.
    eventually(
        lambda: (
            Delivery.objects.filter(pk__in=[d.pk for d in fine], status=Status.ACCEPTED).count()
            == 10
        )
    )
    engine = get_engine()
    assert len(receiver.received("/hang")) == 2  # its two slots, not more
    assert not Delivery.objects.filter(
        pk__in=[d.pk for d in stuck], status=Status.ACCEPTED
    ).exists()
    receiver.release("/hang")
    assert engine.wait_idle(20)
    assert (
        Delivery.objects.filter(pk__in=[d.pk for d in stuck], status=Status.ACCEPTED).count() == 6
    )


def test_requests_to_a_rate_limited_endpoint_leave_spaced_out(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url("/slow-down"), rate_limit_per_second=10)
    for _ in range(5):
        delivery_for(endpoint)
    drain()
    arrivals = [r.at for r in receiver.received("/slow-down")]
    assert len(arrivals) == 5
    # Five requests at 10/s span at least four intervals (a lower bound: never flaky).
    assert arrivals[-1] - arrivals[0] >= 0.38


def test_handing_over_waits_for_room_but_takes_everything(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url("/leads"))
    for _ in range(7):
        delivery_for(endpoint)
    engine = Engine(max_in_flight=3)
    try:
        taken = engine.submit(claimed_jobs())
        assert taken == 7
        assert engine.slots.used <= 3
        assert engine.wait_idle(20)
        assert engine.slots.used == 0
    finally:
        engine.shutdown(5)
    assert Delivery.objects.filter(status=Status.ACCEPTED).count() == 7


def test_shutdown_hands_waiting_deliveries_back_at_once(tenant, receiver):
    receiver.script("/hang", [HOLD])
    endpoint = endpoint_for(tenant, receiver.url("/hang"), timeout_seconds=2)
    deliveries = [delivery_for(endpoint) for _ in range(3)]
    engine = Engine(concurrency=1)
    engine.submit(claimed_jobs())
    receiver.wait_for(1, "/hang")
    engine.shutdown(10)  # the running call times out; the two waiting ones go back
    rows = Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert sorted(rows.values_list("attempts", flat=True)) == [0, 0, 1]
    assert not rows.filter(lease_until__isnull=False).exists()
    assert len(receiver.received("/hang")) == 1


def test_deliveries_that_would_wait_too_long_behind_a_slow_buyer_go_back_to_the_database(
    tenant, receiver
):
    receiver.script("/hang", [HOLD])
    endpoint = endpoint_for(tenant, receiver.url("/hang"), timeout_seconds=5)
    delivery_for(endpoint, due_in=-10)
    engine = Engine(concurrency=1, max_queue_wait=0)
    try:
        engine.submit(claimed_jobs())
        receiver.wait_for(1, "/hang")  # the only slot is now held by a hanging call
        rest = [delivery_for(endpoint) for _ in range(3)]
        # The first may wait for the slot; the others would wait longer than allowed.
        assert engine.submit(claimed_jobs()) == 1
        assert engine.recorder.wait_idle(10)
        handed_back = Delivery.objects.filter(pk__in=[d.pk for d in rest], lease_until=None)
        assert handed_back.count() == 2
        for delivery in handed_back:
            assert delivery.attempts == 0 and delivery.status == Status.PENDING
            assert delivery.next_attempt_at > timezone.now()
        receiver.release("/hang")
        assert engine.wait_idle(20)
    finally:
        engine.shutdown(5)
    assert len(receiver.received("/hang")) == 2
