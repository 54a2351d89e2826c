"""Retry arithmetic: exponential backoff with jitter, Retry-After, final outcomes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from deliveries.models import Status
from deliveries.policy import MAX_DELAY_SECONDS, backoff_delay, transition
from endpoints.client import CallResult

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
POLICY = {"max_attempts": 3, "backoff_seconds": 10}


class FixedRandom(random.Random):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def result(outcome="error", *, transient=True, retry_after=None, captured=None, text="boom"):
    return CallResult(
        request={},
        response={},
        outcome=outcome,
        result=text,
        captured=captured or {},
        duration_ms=5,
        retry_after=retry_after,
        transient=transient,
    )


@given(
    failures=st.integers(min_value=1, max_value=25),
    backoff=st.floats(min_value=0, max_value=86400),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_is_exponential_with_jitter_within_half_and_full_delay(failures, backoff, draw):
    base = min(backoff * 2 ** (failures - 1), MAX_DELAY_SECONDS)
    delay = backoff_delay(failures, backoff, rng=FixedRandom(draw))
    assert base * 0.5 - 1e-9 <= delay <= base + 1e-9


def test_backoff_doubles_per_failure_at_the_same_draw():
    delays = [backoff_delay(n, 10, rng=FixedRandom(0.999999)) for n in (1, 2, 3, 4)]
    assert [round(d) for d in delays] == [10, 20, 40, 80]
    assert backoff_delay(1, 10, rng=FixedRandom(0.0)) == 5.0


def test_backoff_never_exceeds_a_day():
    assert backoff_delay(40, 86400, rng=FixedRandom(0.999)) <= MAX_DELAY_SECONDS


def test_retry_after_is_a_floor_on_the_delay():
    assert backoff_delay(1, 10, retry_after=120, rng=FixedRandom(0.0)) == 120
    # A Retry-After shorter than our own backoff does not make us come back sooner.
    assert backoff_delay(1, 10, retry_after=1, rng=FixedRandom(0.999999)) > 9.9


def test_transient_error_within_budget_retries_after_backoff():
    step = transition(
        result(),
        attempts=1,
        attempts_base=0,
        policy=POLICY,
        captured={},
        now=NOW,
        rng=FixedRandom(0.0),
    )
    assert step.status == Status.RETRYING
    assert step.next_attempt_at == NOW + timedelta(seconds=5)
    assert step.last_error == "boom"
    assert not step.final


def test_429_retry_after_sets_the_next_attempt():
    step = transition(
        result(retry_after=300, text="HTTP 429"),
        attempts=2,
        attempts_base=0,
        policy=POLICY,
        captured={},
        now=NOW,
        rng=FixedRandom(0.5),
    )
    assert step.status == Status.RETRYING
    assert step.next_attempt_at == NOW + timedelta(seconds=300)


def test_last_allowed_attempt_failing_makes_the_delivery_failed():
    step = transition(result(), attempts=3, attempts_base=0, policy=POLICY, captured={}, now=NOW)
    assert step.status == Status.FAILED
    assert step.next_attempt_at is None
    assert step.final


def test_manual_retry_gives_a_fresh_budget():
    step = transition(result(), attempts=4, attempts_base=3, policy=POLICY, captured={}, now=NOW)
    assert step.status == Status.RETRYING


def test_non_transient_error_fails_at_once():
    step = transition(
        result(transient=False, text="response is not JSON"),
        attempts=1,
        attempts_base=0,
        policy=POLICY,
        captured={},
        now=NOW,
    )
    assert step.status == Status.FAILED
    assert step.last_error == "response is not JSON"


def test_rejection_is_final_even_on_the_first_attempt():
    step = transition(
        result("rejected", transient=False, text="duplicate lead"),
        attempts=1,
        attempts_base=0,
        policy=POLICY,
        captured={},
        now=NOW,
    )
    assert step.status == Status.REJECTED
    assert step.last_error == "duplicate lead"
    assert step.next_attempt_at is None


def test_accepted_clears_the_error_and_merges_captures():
    step = transition(
        result("accepted", transient=False, captured={"crm_id": "42"}, text="ok"),
        attempts=2,
        attempts_base=0,
        policy=POLICY,
        captured={"score": 7},
        now=NOW,
    )
    assert step.status == Status.ACCEPTED
    assert step.last_error == ""
    assert step.captured == {"score": 7, "crm_id": "42"}


def test_max_attempts_one_means_no_retry():
    step = transition(
        result(),
        attempts=1,
        attempts_base=0,
        policy={"max_attempts": 1, "backoff_seconds": 10},
        captured={},
        now=NOW,
    )
    assert step.status == Status.FAILED
