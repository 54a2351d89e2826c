"""Endpoint rules: validators, schedules across DST, geo, cap periods. Pure: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from endpoints.rules import (
    RuleError,
    cap_periods,
    describe_days,
    geo_allows,
    in_schedule,
    validate_caps,
    validate_geo,
    validate_retry,
    validate_schedule,
)

NY = "America/New_York"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def schedule(*windows, tz=NY):
    return {"timezone": tz, "windows": list(windows)}


def window(days, start, end):
    return {"days": days, "start": start, "end": end}


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caps", [None, {}, {"daily": 5}, {"daily": 0, "weekly": None, "monthly": 1000}]
)
def test_valid_caps_pass(caps):
    validate_caps(caps)


@pytest.mark.parametrize(
    ("caps", "message"),
    [
        ([5], "caps must be an object"),
        ({"hourly": 5}, "caps: unknown key 'hourly'"),
        ({"daily": -1}, "caps.daily must be a whole number >= 0"),
        ({"daily": 2.5}, "caps.daily must be a whole number"),
        ({"weekly": "5"}, "caps.weekly must be a whole number"),
        ({"monthly": True}, "caps.monthly must be a whole number"),
    ],
)
def test_bad_caps_are_refused_by_name(caps, message):
    with pytest.raises(RuleError, match=message):
        validate_caps(caps)


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        schedule(window(WEEKDAYS, "09:00", "17:00")),
        schedule(window(["FRI", "sat"], "22:00", "02:00")),  # overnight
        schedule(window(["sun"], "00:00", "24:00"), tz="Europe/Berlin"),
        {"timezone": "UTC"},  # no windows: only the time zone (for caps)
    ],
)
def test_valid_schedules_pass(value):
    validate_schedule(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9-5", "schedule must be an object"),
        ({"windows": []}, "schedule.timezone is required"),
        (schedule(tz="Mars/Olympus"), "'Mars/Olympus' is not a known IANA time zone"),
        (schedule(tz="../../etc/passwd"), "is not a known IANA time zone"),
        ({"timezone": NY, "windows": {}}, "schedule.windows must be a list"),
        ({"timezone": NY, "hours": []}, "schedule: unknown key 'hours'"),
        (schedule("mon"), r"schedule.windows\[0\] must be an object"),
        (schedule(window([], "09:00", "17:00")), r"windows\[0\].days must be a non-empty list"),
        (schedule(window(["monday"], "09:00", "17:00")), "'monday' is not one of mon, tue"),
        (schedule(window(["mon"], "9:00", "17:00")), r"windows\[0\].start must be a time 'HH:MM'"),
        (schedule(window(["mon"], "09:00", "25:00")), r"windows\[0\].end must be a time"),
        (schedule(window(["mon"], "24:00", "01:00")), "start must be before 24:00"),
        (schedule(window(["mon"], "09:00", "09:00")), "start and end are equal"),
        (
            schedule(window(["mon"], "09:00", "10:00"), {**window(["mon"], "1", "2"), "x": 1}),
            r"windows\[1\]: unknown key 'x'",
        ),
    ],
)
def test_bad_schedules_are_refused_by_name(value, message):
    with pytest.raises(RuleError, match=message):
        validate_schedule(value)


@pytest.mark.parametrize(
    "geo",
    [
        None,
        {},
        {"states_include": ["CA", "ny"], "zips_exclude": ["941", "10001", "0"]},
        {"states_exclude": [], "zips_include": None},
    ],
)
def test_valid_geo_passes(geo):
    validate_geo(geo)


@pytest.mark.parametrize(
    ("geo", "message"),
    [
        (["CA"], "geo must be an object"),
        ({"countries": ["US"]}, "geo: unknown key 'countries'"),
        ({"states_include": "CA"}, "geo.states_include must be a list"),
        ({"states_exclude": ["California"]}, "'California' is not a two-letter state code"),
        ({"zips_include": [94105]}, "geo.zips_include: '94105' is not a 5-digit ZIP"),
        ({"zips_exclude": ["941056"]}, "is not a 5-digit ZIP or a prefix"),
        ({"zips_exclude": ["9410A"]}, "is not a 5-digit ZIP or a prefix"),
    ],
)
def test_bad_geo_is_refused_by_name(geo, message):
    with pytest.raises(RuleError, match=message):
        validate_geo(geo)


@pytest.mark.parametrize(
    "retry", [None, {}, {"max_attempts": 1}, {"max_attempts": 20, "backoff_seconds": 86400}]
)
def test_valid_retry_passes(retry):
    validate_retry(retry)


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        ({"max_attempts": 0}, "retry.max_attempts must be a whole number from 1 to 20"),
        ({"max_attempts": 21}, "retry.max_attempts must be a whole number from 1 to 20"),
        ({"backoff_seconds": -1}, "retry.backoff_seconds must be a whole number from 0 to 86400"),
        ({"backoff_seconds": 86401}, "retry.backoff_seconds must be"),
        ({"backoff_seconds": 1.5}, "retry.backoff_seconds must be"),
        ({"attempts": 3}, "retry: unknown key 'attempts'"),
        ("3", "retry must be an object"),
    ],
)
def test_bad_retry_is_refused_by_name(retry, message):
    with pytest.raises(RuleError, match=message):
        validate_retry(retry)


def test_rule_errors_are_value_errors():
    assert issubclass(RuleError, ValueError)


# --- schedules -----------------------------------------------------------------------------

OFFICE = schedule(window(WEEKDAYS, "09:00", "17:00"))


def test_office_hours_in_new_york():
    assert in_schedule(OFFICE, utc(2026, 12, 7, 14, 0)) == (
        True,
        "within schedule Mon–Fri 09:00–17:00 America/New_York",
    )  # Monday 09:00 EST
    assert in_schedule(OFFICE, utc(2026, 12, 7, 13, 59)) == (
        False,
        "outside schedule Mon–Fri 09:00–17:00 America/New_York",
    )
    assert in_schedule(OFFICE, utc(2026, 12, 7, 22, 0))[0] is False  # 17:00 is the end
    assert in_schedule(OFFICE, utc(2026, 12, 5, 15, 0))[0] is False  # Saturday


def test_window_follows_local_time_across_spring_forward():
    # 2026-03-08 is the spring-forward Sunday: 13:30 UTC is 08:30 EST on Saturday the 7th
    # but 09:30 EDT on Monday the 9th.
    daily = schedule(
        window(list(("mon", "tue", "wed", "thu", "fri", "sat", "sun")), "09:00", "17:00")
    )
    assert in_schedule(daily, utc(2026, 3, 7, 13, 30))[0] is False
    assert in_schedule(daily, utc(2026, 3, 8, 13, 30))[0] is True
    assert in_schedule(daily, utc(2026, 3, 8, 20, 59))[0] is True  # 16:59 EDT
    assert in_schedule(daily, utc(2026, 3, 8, 21, 0))[0] is False  # 17:00 EDT


def test_window_crossing_the_spring_forward_gap():
    # Sunday 01:00–04:00 local: 02:00–03:00 does not exist that night.
    night = schedule(window(["sun"], "01:00", "04:00"))
    assert in_schedule(night, utc(2026, 3, 8, 5, 59))[0] is False  # 00:59 EST
    assert in_schedule(night, utc(2026, 3, 8, 6, 30))[0] is True  # 01:30 EST
    assert in_schedule(night, utc(2026, 3, 8, 7, 0))[0] is True  # 03:00 EDT (clock jumped)
    assert in_schedule(night, utc(2026, 3, 8, 7, 59))[0] is True  # 03:59 EDT
    assert in_schedule(night, utc(2026, 3, 8, 8, 0))[0] is False  # 04:00 EDT


def test_repeated_hour_on_fall_back_is_inside_both_times():
    # 2026-11-01: 01:00–02:00 happens twice (EDT, then EST).
    hour = schedule(window(["sun"], "01:00", "02:00"))
    assert in_schedule(hour, utc(2026, 11, 1, 5, 30))[0] is True  # 01:30 EDT
    assert in_schedule(hour, utc(2026, 11, 1, 6, 30))[0] is True  # 01:30 EST
    assert in_schedule(hour, utc(2026, 11, 1, 7, 0))[0] is False  # 02:00 EST


def test_overnight_window_opens_on_its_day_and_closes_the_next_morning():
    late = schedule(window(["fri"], "22:00", "02:00"))
    assert in_schedule(late, utc(2026, 12, 5, 2, 59))[0] is False  # Fri 21:59 EST
    assert in_schedule(late, utc(2026, 12, 5, 3, 0))[0] is True  # Fri 22:00
    assert in_schedule(late, utc(2026, 12, 5, 6, 30))[0] is True  # Sat 01:30
    assert in_schedule(late, utc(2026, 12, 5, 7, 0))[0] is False  # Sat 02:00
    assert in_schedule(late, utc(2026, 12, 6, 6, 30))[0] is False  # Sun 01:30: Sat not listed


def test_overnight_window_across_fall_back():
    late = schedule(window(["sat"], "23:00", "02:00"))
    assert in_schedule(late, utc(2026, 11, 1, 3, 30))[0] is True  # Sat 23:30 EDT
    assert in_schedule(late, utc(2026, 11, 1, 6, 30))[0] is True  # Sun 01:30 EST (2nd time)
    assert in_schedule(late, utc(2026, 11, 1, 7, 0))[0] is False  # Sun 02:00 EST


def test_whole_day_window_and_no_windows():
    sunday = schedule(window(["sun"], "00:00", "24:00"), tz="UTC")
    assert in_schedule(sunday, utc(2026, 12, 6, 23, 59))[0] is True
    assert in_schedule(sunday, utc(2026, 12, 7, 0, 0))[0] is False
    assert in_schedule(None, utc(2026, 12, 7)) == (True, "no schedule")
    assert in_schedule({"timezone": NY}, utc(2026, 12, 7))[0] is True


def test_invalid_stored_schedule_is_closed_with_a_reason():
    allowed, reason = in_schedule({"timezone": "Nowhere/City", "windows": []}, utc(2026, 1, 1))
    assert allowed is False
    assert reason.startswith("invalid schedule: schedule.timezone 'Nowhere/City'")


def test_schedule_reason_summarises_every_window():
    two = schedule(
        window(["sat", "sun"], "10:00", "14:00"),
        window(["mon", "wed", "thu", "fri"], "08:00", "20:00"),
    )
    assert in_schedule(two, utc(2026, 12, 8, 15, 0)) == (
        False,
        "outside schedule Sat, Sun 10:00–14:00; Mon, Wed–Fri 08:00–20:00 America/New_York",
    )


def test_days_read_as_ranges():
    assert describe_days(WEEKDAYS) == "Mon–Fri"
    assert describe_days(["sun", "mon", "tue", "wed", "thu", "fri", "sat"]) == "every day"
    assert describe_days(["tue", "mon"]) == "Mon, Tue"


# --- geo -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("geo", "fields", "expected"),
    [
        (None, {"state": "TX"}, (True, "no geo rules")),
        ({"states_include": ["CA", "NY"]}, {"state": "CA"}, (True, "geo allowed")),
        (
            {"states_include": ["CA", "NY"]},
            {"state": "TX"},
            (False, "geo: state TX not in included states [CA, NY]"),
        ),
        (
            {"states_include": ["CA"]},
            {},
            (False, "geo: state missing not in included states [CA]"),
        ),
        ({"states_exclude": ["tx"]}, {"state": "TX"}, (False, "geo: state TX excluded")),
        ({"states_exclude": ["TX"]}, {"state": "CA"}, (True, "geo allowed")),
        ({"states_exclude": ["TX"]}, {}, (True, "geo allowed")),
        ({"zips_include": ["941"]}, {"zip_code": "94105"}, (True, "geo allowed")),
        (
            {"zips_include": ["941", "10001"]},
            {"zip_code": "94005"},
            (False, "geo: ZIP 94005 not in included ZIPs [941, 10001]"),
        ),
        (
            {"zips_include": ["941"]},
            {"state": "CA"},
            (False, "geo: ZIP missing not in included ZIPs [941]"),
        ),
        (
            {"zips_exclude": ["941"]},
            {"zip_code": "94105"},
            (False, "geo: ZIP 94105 excluded (prefix 941)"),
        ),
        ({"zips_exclude": ["94105"]}, {"zip_code": "94105"}, (False, "geo: ZIP 94105 excluded")),
        ({"zips_exclude": ["94105"]}, {"zip_code": "94107"}, (True, "geo allowed")),
        (
            {"zips_exclude": ["021"]},
            {"zip_code": "02134-1234"},
            (False, "geo: ZIP 02134 excluded (prefix 021)"),
        ),
        (
            {"states_include": ["CA"], "zips_exclude": ["941"]},
            {"state": "CA", "zip_code": "90210"},
            (True, "geo allowed"),
        ),
    ],
)
def test_geo_include_and_exclude(geo, fields, expected):
    assert geo_allows(geo, fields) == expected


def test_invalid_stored_geo_is_refused_with_a_reason():
    allowed, reason = geo_allows({"zips_include": [94105]}, {"zip_code": "94105"})
    assert allowed is False
    assert reason.startswith("invalid geo rules:")


# --- cap periods ---------------------------------------------------------------------------


def test_cap_periods_use_the_endpoint_time_zone():
    now = utc(2026, 12, 7, 3, 0)  # Sunday 22:00 in New York, Monday in UTC
    assert cap_periods(NY, now) == {
        "daily": "d:2026-12-06",
        "weekly": "w:2026-W49",
        "monthly": "m:2026-12",
    }
    assert cap_periods(None, now) == {
        "daily": "d:2026-12-07",
        "weekly": "w:2026-W50",
        "monthly": "m:2026-12",
    }


def test_cap_periods_at_a_year_boundary_use_iso_weeks():
    assert cap_periods(NY, utc(2027, 1, 1, 4, 0)) == {
        "daily": "d:2026-12-31",
        "weekly": "w:2026-W53",
        "monthly": "m:2026-12",
    }
    assert cap_periods("UTC", utc(2027, 1, 1, 4, 0))["weekly"] == "w:2026-W53"
    assert cap_periods("Not/AZone", utc(2027, 1, 4))["weekly"] == "w:2027-W01"
