"""Performance numbers per endpoint (call logs) and per inbound handler (inbound calls).

Everything is computed in SQL: counts per outcome with FILTER, the average, and on PostgreSQL
the 95th percentile with ``percentile_cont`` (linear interpolation). SQLite has no percentile
function, so there the durations of the period are read and the same interpolation is done in
Python. Days are the tenant's days. Test calls are left out: they measure the operator, not
the buyer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import Aggregate, Avg, Count, FloatField, Q, QuerySet
from django.db.models.functions import TruncDate

from .models import CallLog, InboundCall, InboundStatus, Outcome
from .zones import day_bounds, local_today

DEFAULT_DAYS = 7
MAX_DAYS = 366
P95 = 0.95


class PeriodError(ValueError):
    """A bad ``since``/``until``; ``field`` names the parameter for a 400."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """The tenant-local days ``first`` … ``last`` (both included)."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return day_bounds(self.first, self.last, self.zone)

    @property
    def days(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=n) for n in range(count)]


def _parse_day(field: str, raw: str | None) -> dt.date | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise PeriodError(field, "Enter a date as YYYY-MM-DD.") from exc


def parse_period(
    since: str | None, until: str | None, zone: ZoneInfo, *, today: dt.date | None = None
) -> Period:
    """The period asked for: both dates included, ``until`` defaulting to today and ``since``
    to six days before ``until`` (a week). Raises PeriodError for bad or reversed dates or a
    span over MAX_DAYS days."""
    first = _parse_day("since", since)
    last = _parse_day("until", until)
    if last is None:
        last = today or local_today(zone)
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise PeriodError("since", "since must be on or before until.")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("since", f"The period may span at most {MAX_DAYS} days.")
    return Period(first, last, zone)


class PercentileCont(Aggregate):
    """PostgreSQL ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, exactly as ``percentile_cont`` does."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _rate(part: int, total: int) -> float | None:
    return round(part / total, 4) if total else None


def _ms(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _has_percentile(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _by_day(queryset: QuerySet, zone: ZoneInfo) -> QuerySet:
    return queryset.annotate(day=TruncDate("created_at", tzinfo=zone)).values("day")


def _python_p95(queryset: QuerySet, zone: ZoneInfo) -> tuple[float | None, dict]:
    """(overall p95, {day: p95}) from the durations themselves (databases without percentiles)."""
    per_day: dict[dt.date, list[int]] = defaultdict(list)
    for day, duration in _by_day(queryset, zone).values_list("day", "duration_ms"):
        per_day[day].append(duration)
    everything = [d for durations in per_day.values() for d in durations]
    return percentile(everything, P95), {day: percentile(v, P95) for day, v in per_day.items()}


def _call_counts(row: dict) -> dict:
    total = row["total"] or 0
    return {
        "total": total,
        "accepted": row["accepted"] or 0,
        "rejected": row["rejected"] or 0,
        "errors": row["errors"] or 0,
        "avg_response_ms": _ms(row["avg_ms"]),
        "p95_response_ms": _ms(row.get("p95_ms")),
    }


def call_stats(queryset: QuerySet, period: Period) -> dict:
    """Outbound performance of ``queryset`` (call logs of one endpoint) over ``period``."""
    start, end = period.bounds
    calls = queryset.filter(created_at__gte=start, created_at__lt=end, test=False)
    aggregates = {
        "total": Count("id"),
        "accepted": Count("id", filter=Q(outcome=Outcome.ACCEPTED)),
        "rejected": Count("id", filter=Q(outcome=Outcome.REJECTED)),
        "errors": Count("id", filter=Q(outcome=Outcome.ERROR)),
        "avg_ms": Avg("duration_ms"),
    }
    in_sql = _has_percentile(calls)
    if in_sql:
        aggregates["p95_ms"] = PercentileCont("duration_ms", P95)
    totals = calls.aggregate(**aggregates)
    daily = {row["day"]: row for row in _by_day(calls, period.zone).annotate(**aggregates)}
    if not in_sql:
        totals["p95_ms"], day_p95 = _python_p95(calls, period.zone)
        for day, value in day_p95.items():
            daily[day]["p95_ms"] = value

    summary = _call_counts(totals)
    total = summary["total"]
    summary.update(
        success_rate=_rate(summary["accepted"], total),
        rejection_rate=_rate(summary["rejected"], total),
        error_rate=_rate(summary["errors"], total),
    )
    empty = {"total": 0, "accepted": 0, "rejected": 0, "errors": 0, "avg_ms": None}
    summary["series"] = [
        {"date": day.isoformat(), **_call_counts(daily.get(day, empty))} for day in period.days
    ]
    return summary


# (count key, status, rate key)
_INBOUND_KEYS = (
    ("success", InboundStatus.SUCCESS, "success_rate"),
    ("duplicate", InboundStatus.DUPLICATE, "duplicate_rate"),
    ("ignored", InboundStatus.IGNORED, "ignored_rate"),
    ("errors", InboundStatus.ERROR, "error_rate"),
)


def inbound_stats(queryset: QuerySet, period: Period) -> dict:
    """Counts and rates per status of ``queryset`` (inbound calls of one handler)."""
    start, end = period.bounds
    calls = queryset.filter(created_at__gte=start, created_at__lt=end)
    aggregates = {"total": Count("id")}
    aggregates.update(
        {key: Count("id", filter=Q(status=status)) for key, status, _ in _INBOUND_KEYS}
    )
    totals = calls.aggregate(**aggregates)
    daily = {row["day"]: row for row in _by_day(calls, period.zone).annotate(**aggregates)}

    def counts(row: dict) -> dict:
        return {key: row.get(key) or 0 for key in ("total", *(k for k, _, _ in _INBOUND_KEYS))}

    summary = counts(totals)
    total = summary["total"]
    summary.update({rate: _rate(summary[key], total) for key, _, rate in _INBOUND_KEYS})
    summary["series"] = [
        {"date": day.isoformat(), **counts(daily.get(day, {}))} for day in period.days
    ]
    return summary


def endpoint_stats(tenant, endpoint, period: Period) -> dict:
    """The stats answer for one endpoint of ``tenant``."""
    summary = call_stats(CallLog.objects.for_tenant(tenant).filter(endpoint=endpoint), period)
    return {"endpoint": endpoint.pk, **_period_fields(period), **summary}


def handler_stats(tenant, handler, period: Period) -> dict:
    """The stats answer for one inbound handler of ``tenant``."""
    summary = inbound_stats(InboundCall.objects.for_tenant(tenant).filter(handler=handler), period)
    return {"handler": handler.pk, **_period_fields(period), **summary}


def _period_fields(period: Period) -> dict:
    return {
        "since": period.first.isoformat(),
        "until": period.last.isoformat(),
        "timezone": str(period.zone.key),
    }
