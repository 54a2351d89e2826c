"""The engine with a real Celery worker, Redis, PostgreSQL and a local HTTP buyer.

One worker serves this module (its dispatcher thread claims what the tests write); the
recovery scenarios (kill -9, broker flush) are in test_recovery.py with workers of their own.
"""

from __future__ import annotations

import pytest

from deliveries.models import Delivery, Status
from logs.models import CallLog
from tests.factories import TenantFactory

from .factories import delivery_for, endpoint_for, eventually
from .receiver import HOLD, Receiver
from .worker import worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

CONCURRENCY = 4  # per endpoint and pool child


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    proc = worker(
        tmp_path_factory.mktemp("worker"),
        env={"HUB_ENDPOINT_CONCURRENCY": str(CONCURRENCY)},
    )
    yield proc
    proc.stop()


@pytest.fixture
def tenant(celery_worker):
    return TenantFactory()


def status_of(delivery) -> str:
    return Delivery.objects.values_list("status", flat=True).get(pk=delivery.pk)


def test_server_errors_are_retried_with_backoff_until_accepted(tenant, receiver):
    receiver.script("/flaky", [(500, b'{"e": 1}'), (500, b'{"e": 2}'), (200, b'{"ok": 1}')])
    endpoint = endpoint_for(
        tenant, receiver.url("/flaky"), retry={"max_attempts": 5, "backoff_seconds": 1}
    )
    delivery = delivery_for(endpoint)
    eventually(lambda: status_of(delivery) == Status.ACCEPTED, timeout=30)
    logs = CallLog.objects.filter(delivery=delivery).order_by("attempt")
    assert [(log.attempt, log.outcome, log.response["status_code"]) for log in logs] == [
        (1, "error", 500),
        (2, "error", 500),
        (3, "accepted", 200),
    ]
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    calls = receiver.received("/flaky")
    assert {c.headers["Idempotency-Key"] for c in calls} == {str(delivery.key)}
    # Backoff 1 s doubles, jittered down by at most half: at least 0.5 s, then at least 1 s.
    assert calls[1].at - calls[0].at >= 0.5
    assert calls[2].at - calls[1].at >= 1.0


def test_a_rejection_is_final_and_sent_once(tenant, receiver):
    receiver.script("/picky", [(400, b'{"error": "duplicate lead"}')])
    endpoint = endpoint_for(tenant, receiver.url("/picky"), reject_reason_path="$.error")
    delivery = delivery_for(endpoint)
    eventually(lambda: status_of(delivery) == Status.REJECTED, timeout=20)
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert "duplicate lead" in delivery.last_error
    assert len(receiver.received("/picky")) == 1
    assert CallLog.objects.filter(delivery=delivery).count() == 1


def test_a_timeout_is_retried_then_fails(tenant, receiver):
    receiver.script("/hangs-up", [HOLD])
    endpoint = endpoint_for(
        tenant,
        receiver.url("/hangs-up"),
        timeout_seconds=1,
        retry={"max_attempts": 2, "backoff_seconds": 1},
    )
    delivery = delivery_for(endpoint)
    eventually(lambda: status_of(delivery) == Status.FAILED, timeout=30)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert "timed out" in delivery.last_error
    logs = list(CallLog.objects.filter(delivery=delivery).order_by("attempt"))
    assert [(log.attempt, log.outcome) for log in logs] == [(1, "error"), (2, "error")]
    calls = receiver.received("/hangs-up")
    assert len(calls) == 2
    assert {c.headers["Idempotency-Key"] for c in calls} == {str(delivery.key)}


def test_a_hanging_buyer_does_not_delay_a_healthy_one(tenant, receiver):
    receiver.script("/stuck", [HOLD])
    hanging = endpoint_for(tenant, receiver.url("/stuck"), timeout_seconds=30)
    healthy = endpoint_for(tenant, receiver.url("/fine"))
    # The hanging buyer's leads are older, so they are claimed (and sent) first.
    stuck = [delivery_for(hanging, due_in=-60).pk for _ in range(30)]
    fine = [delivery_for(healthy, due_in=-1).pk for _ in range(30)]

    accepted = Delivery.objects.filter(status=Status.ACCEPTED)
    eventually(lambda: accepted.filter(pk__in=fine).count() == 30, timeout=30)
    # Every healthy lead is delivered while the hanging buyer still holds its calls…
    assert not Delivery.objects.filter(pk__in=stuck, status__in=["accepted", "failed"]).exists()
    # …and it holds at most its own slots (per endpoint, per pool child).
    assert 1 <= len(receiver.received("/stuck")) <= CONCURRENCY * 2

    receiver.release("/stuck")
    eventually(lambda: accepted.filter(pk__in=stuck).count() == 30, timeout=30)
    assert len(receiver.received("/fine")) == 30
