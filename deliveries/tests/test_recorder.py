"""Recording: an attempt's call log and the delivery's new state are written together."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError
from django.utils import timezone

from deliveries import routing
from deliveries.dispatcher import claim_due
from deliveries.models import Delivery, Status
from deliveries.recorder import INACTIVE, Outcome, record
from endpoints.client import CallResult
from logs.models import CallLog
from tests.factories import EndpointFactory, TenantFactory

from .factories import delivery_for


def call(outcome="accepted", *, status=200, transient=False, text="ok", captured=None):
    return CallResult(
        request={"method": "POST", "url": "http://buyer.test/leads", "headers": {}, "body": "{}"},
        response={"status_code": status, "headers": {}, "body": "{}"},
        outcome=outcome,
        result=text,
        captured=captured or {},
        duration_ms=12,
        retry_after=None,
        transient=transient,
    )


@pytest.fixture
def endpoint(db):
    return EndpointFactory(tenant=TenantFactory(), retry={"max_attempts": 3, "backoff_seconds": 60})


def claimed(endpoint, count=1):
    """Deliveries claimed the way the dispatcher claims them, loaded the way send_batch does."""
    for _ in range(count):
        delivery_for(endpoint)
    ids, lease_until = claim_due(100)
    rows = list(Delivery.objects.filter(pk__in=ids).select_related("lead", "endpoint"))
    return rows, lease_until


def test_accepted_attempt_writes_its_call_log_and_final_state(endpoint):
    (delivery,), claim = claimed(endpoint)
    finals = record([Outcome(delivery, claim, result=call(captured={"crm_id": "9"}))])
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED
    assert delivery.attempts == 1
    assert delivery.lease_until is None
    assert delivery.next_attempt_at is None
    assert delivery.captured == {"crm_id": "9"}
    log = CallLog.objects.get(delivery=delivery)
    assert (log.attempt, log.outcome, log.result, log.test) == (1, "accepted", "ok", False)
    assert log.phone == delivery.lead.phone
    assert log.lead_id == delivery.lead_id and log.endpoint_id == endpoint.pk
    assert log.tenant_id == delivery.tenant_id
    assert [d.pk for d in finals] == [delivery.pk]


def test_transient_error_schedules_a_retry_with_backoff(endpoint):
    (delivery,), claim = claimed(endpoint)
    before = timezone.now()
    finals = record(
        [
            Outcome(
                delivery, claim, result=call("error", status=503, transient=True, text="HTTP 503")
            )
        ]
    )
    delivery.refresh_from_db()
    assert finals == []
    assert delivery.status == Status.RETRYING
    assert delivery.last_error == "HTTP 503"
    assert before + timedelta(seconds=30) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert CallLog.objects.get(delivery=delivery).outcome == "error"


def test_a_batch_is_recorded_in_one_transaction_with_a_few_statements(
    endpoint, django_assert_max_num_queries
):
    deliveries, claim = claimed(endpoint, 20)
    outcomes = [
        Outcome(d, claim, result=call("error", status=500, transient=True, text="HTTP 500"))
        for d in deliveries
    ]
    # savepoint + one UPDATE + one INSERT + release: not one statement per delivery.
    with django_assert_max_num_queries(6):
        record(outcomes)
    assert Delivery.objects.filter(status=Status.RETRYING, attempts=1).count() == 20
    assert CallLog.objects.filter(attempt=1).count() == 20


def test_a_failing_log_write_leaves_the_state_unchanged(endpoint):
    (delivery,), claim = claimed(endpoint)
    broken = call("way-too-long-outcome")  # does not fit the outcome column
    with pytest.raises(DataError):
        record([Outcome(delivery, claim, result=broken)])
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.attempts == 0
    assert not CallLog.objects.exists()


def test_a_lost_claim_logs_the_call_but_does_not_record_the_state(endpoint):
    (delivery,), claim = claimed(endpoint)
    # The lease ran out and another dispatcher claimed it again meanwhile.
    Delivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() + timedelta(seconds=300)
    )
    record([Outcome(delivery, claim, result=call())])
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.attempts == 0
    assert CallLog.objects.filter(delivery=delivery).count() == 1


def test_an_operator_cancel_during_the_call_wins(endpoint):
    (delivery,), claim = claimed(endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.CANCELED)
    record([Outcome(delivery, claim, result=call())])
    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELED


def test_inactive_endpoint_cancels_without_a_call_log(endpoint):
    (delivery,), claim = claimed(endpoint)
    finals = record([Outcome(delivery, claim, cancel=INACTIVE)])
    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELED
    assert delivery.last_error == "endpoint inactive"
    assert delivery.attempts == 0
    assert not CallLog.objects.exists()
    assert [d.pk for d in finals] == [delivery.pk]


def test_release_hands_the_delivery_back_without_counting_an_attempt(endpoint):
    (delivery,), claim = claimed(endpoint)
    later = timezone.now() + timedelta(seconds=20)
    record([Outcome(delivery, claim, release_until=later)])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
    assert delivery.lease_until is None
    assert delivery.next_attempt_at == later


def test_follow_up_receives_exactly_the_final_deliveries(endpoint, monkeypatch):
    seen = []
    monkeypatch.setattr(routing, "follow_up", lambda finals: seen.append(finals) or [])
    (ok, retry, rejected), claim = claimed(endpoint, 3)
    record(
        [
            Outcome(ok, claim, result=call()),
            Outcome(retry, claim, result=call("error", status=500, transient=True)),
            Outcome(rejected, claim, result=call("rejected", status=400, text="bad phone")),
        ]
    )
    assert len(seen) == 1
    assert sorted((d.pk, d.status) for d in seen[0]) == sorted(
        [(ok.pk, Status.ACCEPTED), (rejected.pk, Status.REJECTED)]
    )


def test_a_failing_follow_up_does_not_undo_the_recorded_attempt(endpoint, monkeypatch):
    def broken(finals):
        Delivery.objects.filter(pk=finals[0].pk).update(last_error="written by follow_up")
        raise RuntimeError("routing bug")

    monkeypatch.setattr(routing, "follow_up", broken)
    (delivery,), claim = claimed(endpoint)
    record([Outcome(delivery, claim, result=call())])
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED
    assert delivery.last_error == ""  # the follow-up's own writes were rolled back
    assert CallLog.objects.filter(delivery=delivery).count() == 1


def test_non_finite_numbers_in_an_answer_do_not_make_the_attempt_unrecordable(endpoint):
    (delivery,), claim = claimed(endpoint)
    answer = call(captured={"id": float("nan"), "scores": [1, float("-inf")]})
    answer.response["odd"] = float("inf")
    record([Outcome(delivery, claim, result=answer)])
    delivery.refresh_from_db()
    assert delivery.status == Status.ACCEPTED
    assert delivery.captured == {"id": None, "scores": [1, None]}
    assert CallLog.objects.get(delivery=delivery).response["odd"] is None
