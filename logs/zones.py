"""The tenant's time zone: how log dates are shown, how naive dates are read, where days begin."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

UTC = ZoneInfo("UTC")


def tenant_zone(tenant) -> ZoneInfo:
    """``tenant.timezone`` as a ZoneInfo; UTC when there is no tenant or the name is unknown."""
    name = getattr(tenant, "timezone", "") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A bad name saved by hand must not take every log page down with it.
        return UTC


def local_today(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """Today's date in ``zone``."""
    return (now or timezone.now()).astimezone(zone).date()


def day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The instant ``day`` begins in ``zone`` (aware)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def day_bounds(first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """``[start of first, start of the day after last)`` in ``zone``: a half-open range."""
    return day_start(first, zone), day_start(last + dt.timedelta(days=1), zone)
