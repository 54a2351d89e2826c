"""Per-endpoint request rate ceilings (``Endpoint.rate_limit_per_second``): token buckets.

A bucket holds at most one token and refills at ``rate`` per second, so requests leave evenly
spaced. Taking a token *reserves* the next free slot: the caller is told how long to wait and
then goes, without asking again — waiters are served in order and nobody spins.

Across processes (workers on several machines) the bucket lives in Redis when REDIS_URL is set
(one Lua script, the clock is Redis's own); in one process (the embedded default) it lives in
memory. If Redis cannot be reached the process falls back to its own bucket rather than stop
delivering.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger("hub.deliveries")

BURST = 1.0

_RESERVE_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + (now - ts) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((wait + 60) * 1000))
return string.format('%.6f', wait)
"""


class LocalBucket:
    """An in-process token bucket with reservations (not thread-safe: one event loop uses it)."""

    def __init__(
        self, rate: float, *, burst: float = BURST, clock: Callable[[], float] | None = None
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock or time.monotonic
        self.tokens = self.burst
        self.stamp = self.clock()

    def reserve(self) -> float:
        """Take the next slot; answer the seconds to wait before using it (0 = now)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate) - 1
        self.stamp = now
        return -self.tokens / self.rate if self.tokens < 0 else 0.0


class RateLimiter:
    """Waits for a request slot per endpoint; shared by every send of one engine."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "hub:rate:"):
        self.redis_url = redis_url
        self.prefix = prefix
        self._local: dict[int, LocalBucket] = {}
        self._redis = None
        self._script = None
        self._redis_failed_at = 0.0

    async def wait(self, endpoint_id: int, rate: float | None) -> float:
        """Sleep until ``endpoint_id`` may send again; answer the seconds waited."""
        if not rate:
            return 0.0
        delay = await self._reserve(endpoint_id, float(rate))
        if delay > 0:
            await asyncio.sleep(delay)
        return delay

    async def _reserve(self, endpoint_id: int, rate: float) -> float:
        if self.redis_url and time.monotonic() - self._redis_failed_at > 30:
            try:
                return await self._reserve_redis(endpoint_id, rate)
            except (RedisError, OSError) as exc:
                # Retry Redis after a while; meanwhile each process keeps its own ceiling.
                self._redis_failed_at = time.monotonic()
                logger.warning("rate limit: Redis unavailable (%s); using a local bucket", exc)
        return self.local_bucket(endpoint_id, rate).reserve()

    def local_bucket(self, endpoint_id: int, rate: float) -> LocalBucket:
        bucket = self._local.get(endpoint_id)
        if bucket is None or bucket.rate != rate:
            bucket = self._local[endpoint_id] = LocalBucket(rate)
        return bucket

    async def _reserve_redis(self, endpoint_id: int, rate: float) -> float:
        if self._script is None:
            self._redis = aioredis.Redis.from_url(self.redis_url, socket_timeout=2)
            self._script = self._redis.register_script(_RESERVE_LUA)
        wait = await self._script(keys=[f"{self.prefix}{endpoint_id}"], args=[rate, BURST])
        return max(float(wait), 0.0)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
            self._script = None
