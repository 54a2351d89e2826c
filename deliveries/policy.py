"""What a call's outcome does to a delivery: the next state, and when to try again.

Pure functions (no I/O, the clock and the random source are arguments) so the arithmetic is
testable on its own. The rules, per API.md:

- ``accepted`` → accepted (final); ``rejected`` → rejected (final, never retried);
- an ``error`` the client marked ``transient`` (timeout, connection error, 5xx, 408, 429) →
  retrying with exponential backoff and jitter while the retry budget lasts, then failed;
- any other error (a body that does not parse, a render error, a refused destination) → failed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .models import Status

# No wait grows past a day, whatever the policy or Retry-After says.
MAX_DELAY_SECONDS = 24 * 3600
# Jitter spreads retries over [JITTER_LOW × delay, delay] so a recovering buyer is not hit by
# every waiting delivery at the same instant.
JITTER_LOW = 0.5


@dataclass(frozen=True)
class Transition:
    """The state a delivery moves to after one attempt."""

    status: str
    next_attempt_at: datetime | None
    last_error: str
    captured: dict = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.status != Status.RETRYING


def backoff_delay(
    failures: int,
    backoff_seconds: float,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the ``failures``-th failed attempt (1 for the first).

    ``backoff_seconds × 2^(failures-1)``, jittered down by up to half, capped at a day; a
    buyer's Retry-After is a floor (we never come back earlier than asked).
    """
    rng = rng or random
    base = min(float(backoff_seconds) * (2 ** max(failures - 1, 0)), MAX_DELAY_SECONDS)
    delay = base * (JITTER_LOW + (1 - JITTER_LOW) * rng.random())
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), MAX_DELAY_SECONDS))
    return delay


def transition(
    result,
    *,
    attempts: int,
    attempts_base: int,
    policy: Mapping,
    captured: Mapping | None,
    now: datetime,
    rng: random.Random | None = None,
) -> Transition:
    """The state after one attempt whose CallResult is ``result``.

    ``attempts`` counts attempts including this one; ``attempts_base`` is where the retry
    budget starts (attempts made before an operator's manual retry do not count against it).
    Values the buyer's answer captured are merged over ``captured``.
    """
    merged = {**(captured or {}), **(result.captured or {})}
    if result.outcome == "accepted":
        return Transition(Status.ACCEPTED, None, "", merged)
    if result.outcome == "rejected":
        return Transition(Status.REJECTED, None, result.result, merged)
    used = attempts - attempts_base
    max_attempts = int(policy.get("max_attempts") or 1)
    if result.transient and used < max_attempts:
        delay = backoff_delay(
            used,
            float(policy.get("backoff_seconds") or 0),
            retry_after=result.retry_after,
            rng=rng,
        )
        return Transition(Status.RETRYING, now + timedelta(seconds=delay), result.result, merged)
    return Transition(Status.FAILED, None, result.result, merged)
