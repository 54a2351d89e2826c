"""Token buckets: requests to one endpoint leave no faster than its rate."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings

from deliveries.ratelimit import LocalBucket, RateLimiter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_first_request_goes_at_once_and_the_next_waits_one_interval():
    clock = Clock()
    bucket = LocalBucket(4, clock=clock)
    assert bucket.reserve() == 0
    assert bucket.reserve() == pytest.approx(0.25)


def test_reservations_queue_up_in_order():
    clock = Clock()
    bucket = LocalBucket(10, clock=clock)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])


def test_an_idle_bucket_refills_but_never_beyond_one_token():
    clock = Clock()
    bucket = LocalBucket(2, clock=clock)
    bucket.reserve()
    clock.now += 60
    assert bucket.reserve() == 0
    assert bucket.reserve() == pytest.approx(0.5)


def test_time_passing_shortens_the_wait():
    clock = Clock()
    bucket = LocalBucket(1, clock=clock)
    bucket.reserve()
    clock.now += 0.75
    assert bucket.reserve() == pytest.approx(0.25)


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        LocalBucket(0)


def test_no_rate_means_no_wait():
    assert asyncio.run(RateLimiter(None).wait(1, None)) == 0


def test_redis_bucket_is_shared_between_limiters():
    """Two limiters (two processes) on the same Redis key share one ceiling."""
    prefix = f"test-rate-{uuid.uuid4().hex}:"

    async def scenario():
        first, second = (
            RateLimiter(settings.REDIS_URL, prefix=prefix),
            RateLimiter(settings.REDIS_URL, prefix=prefix),
        )
        try:
            return [
                await first._reserve(7, 2.0),
                await second._reserve(7, 2.0),
                await first._reserve(7, 2.0),
            ]
        finally:
            await first.close()
            await second.close()

    waits = asyncio.run(scenario())
    assert waits[0] == 0
    assert 0.4 < waits[1] <= 0.5
    assert 0.9 < waits[2] <= 1.0


def test_unreachable_redis_falls_back_to_a_local_bucket():
    async def scenario():
        limiter = RateLimiter("redis://127.0.0.1:1/0")
        try:
            return [await limiter._reserve(3, 4.0), await limiter._reserve(3, 4.0)]
        finally:
            await limiter.close()

    assert asyncio.run(scenario()) == pytest.approx([0, 0.25], abs=0.01)
