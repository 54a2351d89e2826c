"""Validation and evaluation of endpoint caps, schedules and geo filters.

Interface (implementation owned by the routing work):
    validate_caps(caps), validate_schedule(schedule), validate_geo(geo), validate_retry(retry)
        -> None, raise django.core.exceptions.ValidationError / ValueError with a clear message
    in_schedule(schedule, now) -> tuple[bool, str]     (allowed, human reason)
    geo_allows(geo, fields) -> tuple[bool, str]
"""

from __future__ import annotations


def validate_caps(caps) -> None:
    return None


def validate_schedule(schedule) -> None:
    return None


def validate_geo(geo) -> None:
    return None


def validate_retry(retry) -> None:
    return None
