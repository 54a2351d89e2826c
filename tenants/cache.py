"""A Redis cache that degrades to 'miss' when Redis is unreachable.

Everything we cache (lead-field catalogues, routing config, OAuth2 tokens, rate-limit state)
can be recomputed, so a Redis outage must slow the hub down, never make it answer 500: a
failed read is a miss, a failed write is skipped, and both are logged.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("hub.cache")


def _tolerant(name: str, fallback):
    def method(self, *args, **kwargs):
        try:
            return getattr(super(TolerantRedisCache, self), name)(*args, **kwargs)
        except (RedisError, OSError) as exc:
            logger.warning("cache %s failed, treated as a miss: %s", name, exc)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


def _default_of_get(key, default=None, version=None):
    return default


class TolerantRedisCache(RedisCache):
    get = _tolerant("get", _default_of_get)
    get_many = _tolerant("get_many", {})
    set = _tolerant("set", None)
    set_many = _tolerant("set_many", [])
    add = _tolerant("add", False)
    delete = _tolerant("delete", False)
    delete_many = _tolerant("delete_many", None)
    touch = _tolerant("touch", False)
    has_key = _tolerant("has_key", False)
    incr = _tolerant("incr", None)
