"""Endpoint caps: atomic reservations on CapCounter rows.

A delivery reserves one unit in each capped period (day, ISO week, month in the endpoint's
schedule time zone) when routing creates it; the reservation stays if the delivery ends
accepted and is released when it ends any other way. So a counter is "accepted plus still in
flight", and a cap is never exceeded, however many leads arrive at once.

The reservation is one statement per period::

    INSERT … VALUES (endpoint, period, 1)
    ON CONFLICT (endpoint_id, period) DO UPDATE SET count = count + 1 WHERE count < cap
    RETURNING count

Concurrent transactions serialise on the counter row (the second waits for the first to
commit or roll back, then re-checks ``count < cap``), so twenty simultaneous leads against a
cap of five get exactly five reservations. The same SQL runs on SQLite (3.35+) for the
embedded mode.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import connection
from django.db.models import F
from django.db.models.functions import Greatest

from endpoints.rules import active_caps, cap_periods

from .models import CapCounter

_TABLE = CapCounter._meta.db_table
_RESERVE_SQL = (
    f'INSERT INTO {_TABLE} (endpoint_id, period, "count") VALUES (%s, %s, 1) '
    f'ON CONFLICT (endpoint_id, period) DO UPDATE SET "count" = {_TABLE}."count" + 1 '
    f'WHERE {_TABLE}."count" < %s RETURNING "count"'
)


class CapReached(Exception):
    """Raised by ``reserve`` when a period is full; ``reason`` is human (``cap reached: …``)."""

    def __init__(self, period: str, limit: int):
        super().__init__(period, limit)
        self.reason = f"cap reached: {period} {limit}"


def reserve(endpoint_id: int, caps: Mapping, tz, now: dt.datetime) -> list[str]:
    """Reserve one unit in every capped period of the endpoint; return the period keys.

    Raises CapReached (and leaves no reservation behind) when any period is full. Must run
    inside the transaction that writes the delivery, so a rollback also undoes the count.
    """
    limits = active_caps(caps)
    if not limits:
        return []
    keys = cap_periods(tz, now)
    reserved: list[str] = []
    with connection.cursor() as cursor:
        for period, limit in limits.items():
            if limit > 0:
                cursor.execute(_RESERVE_SQL, [endpoint_id, keys[period], limit])
                if cursor.fetchone() is not None:
                    reserved.append(keys[period])
                    continue
            # Full: give back what this attempt took in the other periods.
            release([(endpoint_id, key) for key in reserved])
            raise CapReached(period, limit)
    return reserved


def release(reservations: Iterable[tuple[int, str]]) -> None:
    """Give back reservations: one ``(endpoint_id, period)`` per unit, grouped into one
    UPDATE per distinct counter. Counts never go below zero."""
    units = Counter(reservations)
    for (endpoint_id, period), n in sorted(units.items()):
        CapCounter.objects.filter(endpoint_id=endpoint_id, period=period).update(
            count=Greatest(F("count") - n, 0)
        )


def usage(endpoint_id: int, tz, now: dt.datetime) -> dict[str, int]:
    """Current counts ``{"daily": n, "weekly": n, "monthly": n}`` for display."""
    keys = cap_periods(tz, now)
    counts = dict(
        CapCounter.objects.filter(endpoint_id=endpoint_id, period__in=keys.values()).values_list(
            "period", "count"
        )
    )
    return {period: counts.get(key, 0) for period, key in keys.items()}
