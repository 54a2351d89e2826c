"""Endpoint delivery rules: caps, schedule, geo and retry — validation and evaluation.

Each ``validate_*`` accepts ``None``/``{}`` (no rule) and raises ``RuleError`` (a ValueError)
whose message names the key at fault. Evaluation never raises: a rule that slipped past
validation is read as "not allowed" with a reason that says so.

Schedules::

    {"timezone": "America/New_York",
     "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]}

- Times are wall-clock times in ``timezone`` (IANA name), so a 09:00–17:00 window stays
  09:00–17:00 local across daylight-saving changes. On a spring-forward day the skipped hour
  does not exist (a 01:00–03:00 window is open for one real hour); on a fall-back day the
  repeated hour is inside a window that covers it both times.
- ``start`` is inclusive, ``end`` exclusive; ``"24:00"`` means the end of the day.
- An ``end`` earlier than ``start`` is an overnight window: ``fri 22:00–02:00`` is open from
  Friday 22:00 to Saturday 02:00 (``days`` name the day the window opens). ``end == start``
  is refused as ambiguous; use ``00:00``–``24:00`` for a whole day.
- No ``windows`` (or an empty list) means no time restriction; the time zone still decides
  the day, week and month that caps count in.

Geo: ``states_include`` / ``states_exclude`` hold two-letter codes; ``zips_include`` /
``zips_exclude`` hold 5-digit ZIPs or prefixes of 1–4 digits (``"941"`` covers 94100–94199).
The lead's ``state`` and ``zip_code`` fields are checked; with an include list, a lead without
the value is not allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CAP_PERIODS = ("daily", "weekly", "monthly")
GEO_KEYS = ("states_include", "states_exclude", "zips_include", "zips_exclude")
RETRY_LIMITS = {"max_attempts": (1, 20), "backoff_seconds": (0, 86400)}
MAX_WINDOWS = 50
MAX_GEO_VALUES = 10_000
UTC = ZoneInfo("UTC")

_TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
_STATE_RE = re.compile(r"[A-Za-z]{2}")
_ZIP_RE = re.compile(r"\d{1,5}")


class RuleError(ValueError):
    """An endpoint rule that cannot be saved; the message names the key at fault."""


def _mapping(value, name: str) -> Mapping | None:
    """The rule as a mapping, None when empty; RuleError when it is not an object."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RuleError(f"{name} must be an object.")
    return value or None


def _unknown_keys(value: Mapping, allowed, name: str) -> None:
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise RuleError(f"{name}: unknown key '{unknown[0]}' (allowed: {', '.join(allowed)}).")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- caps ----------------------------------------------------------------------------------


def validate_caps(caps) -> None:
    """``{"daily", "weekly", "monthly"}``: each a non-negative integer or null (unlimited)."""
    caps = _mapping(caps, "caps")
    if caps is None:
        return
    _unknown_keys(caps, CAP_PERIODS, "caps")
    for period, limit in caps.items():
        if limit is not None and (not _is_int(limit) or limit < 0):
            raise RuleError(f"caps.{period} must be a whole number >= 0, or null for no cap.")


def active_caps(caps) -> dict[str, int]:
    """The caps that limit something: ``{period: limit}`` in daily/weekly/monthly order."""
    if not isinstance(caps, Mapping):
        return {}
    return {p: caps[p] for p in CAP_PERIODS if _is_int(caps.get(p)) and caps[p] >= 0}


def cap_periods(endpoint_tz, now: dt.datetime) -> dict[str, str]:
    """The counter keys ``now`` falls in, in the endpoint's time zone (UTC when None).

    ``{"daily": "d:2026-12-06", "weekly": "w:2026-W49", "monthly": "m:2026-12"}``; weeks are
    ISO weeks (Monday first).
    """
    local = now.astimezone(_zone(endpoint_tz))
    year, week, _ = local.isocalendar()
    return {
        "daily": f"d:{local:%Y-%m-%d}",
        "weekly": f"w:{year}-W{week:02d}",
        "monthly": f"m:{local:%Y-%m}",
    }


def _zone(tz) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    if isinstance(tz, str) and tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    return UTC


def schedule_zone(schedule) -> ZoneInfo:
    """The schedule's time zone (UTC without a schedule or with an invalid zone)."""
    return _zone(schedule.get("timezone") if isinstance(schedule, Mapping) else None)


# --- schedule ------------------------------------------------------------------------------


def validate_schedule(schedule) -> None:
    """``{"timezone": IANA name, "windows": [{"days", "start", "end"}]}``; see module doc."""
    schedule = _mapping(schedule, "schedule")
    if schedule is None:
        return
    _unknown_keys(schedule, ("timezone", "windows"), "schedule")
    name = schedule.get("timezone")
    if not isinstance(name, str) or not name:
        raise RuleError("schedule.timezone is required, e.g. 'America/New_York'.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuleError(f"schedule.timezone '{name[:60]}' is not a known IANA time zone.") from exc
    windows = schedule.get("windows")
    windows = [] if windows is None else windows
    if not isinstance(windows, list):
        raise RuleError("schedule.windows must be a list.")
    if len(windows) > MAX_WINDOWS:
        raise RuleError(f"schedule.windows may hold at most {MAX_WINDOWS} windows.")
    for i, window in enumerate(windows):
        _validate_window(window, f"schedule.windows[{i}]")


def _validate_window(window, where: str) -> None:
    if not isinstance(window, Mapping):
        raise RuleError(f"{where} must be an object with days, start and end.")
    _unknown_keys(window, ("days", "start", "end"), where)
    days = window.get("days")
    if not isinstance(days, list) or not days:
        raise RuleError(f"{where}.days must be a non-empty list such as ['mon', 'tue'].")
    for day in days:
        if not isinstance(day, str) or day.lower() not in DAYS:
            raise RuleError(f"{where}.days: '{day}' is not one of {', '.join(DAYS)}.")
    for key in ("start", "end"):
        value = window.get(key)
        if not isinstance(value, str) or not _TIME_RE.fullmatch(value):
            raise RuleError(f"{where}.{key} must be a time 'HH:MM' (00:00–24:00).")
    if window["start"] == "24:00":
        raise RuleError(f"{where}.start must be before 24:00.")
    if window["start"] == window["end"]:
        raise RuleError(f"{where}: start and end are equal; use 00:00–24:00 for a whole day.")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def describe_days(days) -> str:
    """``Mon–Fri``, ``Sat, Sun`` or ``every day`` from a list of day names."""
    wanted = sorted({d.lower() for d in days if d.lower() in DAYS}, key=DAYS.index)
    if len(wanted) == 7:
        return "every day"
    runs: list[list[str]] = []
    for day in wanted:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{r[0].title()}–{r[-1].title()}" if len(r) > 2 else ", ".join(d.title() for d in r)
        for r in runs
    ]
    return ", ".join(parts)


@dataclass(frozen=True)
class Schedule:
    """A schedule read once: windows as (weekdays, start minute, end minute)."""

    zone: ZoneInfo | None = None
    windows: tuple[tuple[frozenset[int], int, int], ...] = ()
    summary: str = ""
    error: str = ""

    def check(self, now: dt.datetime) -> tuple[bool, str]:
        """``(open, reason)`` for an aware ``now``."""
        if self.error:
            return False, f"invalid schedule: {self.error}"
        if not self.windows:
            return True, "no schedule"
        local = now.astimezone(self.zone)
        minute, today = local.hour * 60 + local.minute, local.weekday()
        yesterday = (today - 1) % 7
        for days, start, end in self.windows:
            if start < end:
                if today in days and start <= minute < end:
                    return True, f"within schedule {self.summary}"
            elif (today in days and minute >= start) or (yesterday in days and minute < end):
                return True, f"within schedule {self.summary}"  # overnight window
        return False, f"outside schedule {self.summary}"


def compile_schedule(schedule) -> Schedule:
    """The schedule read for repeated checks; never raises (an invalid one is closed)."""
    if not schedule:
        return Schedule()
    try:
        validate_schedule(schedule)
    except RuleError as exc:
        return Schedule(error=str(exc))
    windows = schedule.get("windows") or []
    parsed = tuple(
        (
            frozenset(DAYS.index(d.lower()) for d in w["days"]),
            _minutes(w["start"]),
            _minutes(w["end"]),
        )
        for w in windows
    )
    text = "; ".join(f"{describe_days(w['days'])} {w['start']}–{w['end']}" for w in windows)
    return Schedule(ZoneInfo(schedule["timezone"]), parsed, f"{text} {schedule['timezone']}")


def in_schedule(schedule, now: dt.datetime) -> tuple[bool, str]:
    """Whether ``now`` (aware) falls in a window; the reason reads like
    ``outside schedule Mon–Fri 09:00–17:00 America/New_York``."""
    return compile_schedule(schedule).check(now)


# --- geo -----------------------------------------------------------------------------------


def validate_geo(geo) -> None:
    """State lists of two-letter codes and ZIP lists of 5-digit ZIPs or 1–4 digit prefixes."""
    geo = _mapping(geo, "geo")
    if geo is None:
        return
    _unknown_keys(geo, GEO_KEYS, "geo")
    for key, values in geo.items():
        if values is None:
            continue
        if not isinstance(values, list):
            raise RuleError(f"geo.{key} must be a list.")
        if len(values) > MAX_GEO_VALUES:
            raise RuleError(f"geo.{key} may hold at most {MAX_GEO_VALUES} values.")
        pattern, example = (
            (_STATE_RE, "a two-letter state code such as 'CA'")
            if key.startswith("states")
            else (_ZIP_RE, "a 5-digit ZIP or a prefix such as '941', written as text")
        )
        for value in values:
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise RuleError(f"geo.{key}: {str(value)[:20]!r} is not {example}.")


def _short(values, limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    return f"[{shown}{', …' if len(values) > limit else ''}]"


def _prefix(zip_code: str, prefixes: frozenset[str]) -> str | None:
    """The listed ZIP or prefix that ``zip_code`` falls under (five set lookups)."""
    return next((zip_code[:n] for n in range(1, 6) if zip_code[:n] in prefixes), None)


@dataclass(frozen=True)
class Geo:
    """Geo rules read once into sets; ``*_shown`` keep the listed order for messages."""

    states_in: frozenset[str] = frozenset()
    states_out: frozenset[str] = frozenset()
    zips_in: frozenset[str] = frozenset()
    zips_out: frozenset[str] = frozenset()
    states_shown: tuple[str, ...] = ()
    zips_shown: tuple[str, ...] = ()
    error: str = ""

    def allows(self, fields: Mapping) -> tuple[bool, str]:
        """``(allowed, reason)`` for the lead's ``state`` and ``zip_code``."""
        if self.error:
            return False, f"invalid geo rules: {self.error}"
        state = str(fields.get("state") or "").strip().upper()
        zip_code = re.sub(r"\D", "", str(fields.get("zip_code") or ""))[:5]
        if self.states_in and state not in self.states_in:
            shown = state or "missing"
            return False, f"geo: state {shown} not in included states {_short(self.states_shown)}"
        if state and state in self.states_out:
            return False, f"geo: state {state} excluded"
        if self.zips_in and (not zip_code or _prefix(zip_code, self.zips_in) is None):
            shown = zip_code or "missing"
            return False, f"geo: ZIP {shown} not in included ZIPs {_short(self.zips_shown)}"
        excluded = _prefix(zip_code, self.zips_out) if zip_code else None
        if excluded is not None:
            detail = "" if excluded == zip_code else f" (prefix {excluded})"
            return False, f"geo: ZIP {zip_code} excluded{detail}"
        return True, "geo allowed"


def compile_geo(geo) -> Geo:
    """Geo rules read for repeated checks; never raises (invalid rules allow nothing)."""
    if not geo:
        return Geo()
    try:
        validate_geo(geo)
    except RuleError as exc:
        return Geo(error=str(exc))

    def listed(key: str) -> tuple[str, ...]:
        return tuple(v.upper() for v in geo.get(key) or [])

    return Geo(
        states_in=frozenset(listed("states_include")),
        states_out=frozenset(listed("states_exclude")),
        zips_in=frozenset(listed("zips_include")),
        zips_out=frozenset(listed("zips_exclude")),
        states_shown=listed("states_include"),
        zips_shown=listed("zips_include"),
    )


def geo_allows(geo, fields: Mapping) -> tuple[bool, str]:
    """Whether the lead's ``state`` and ``zip_code`` pass ``geo``; the reason reads like
    ``geo: state TX excluded``."""
    if not geo:
        return True, "no geo rules"
    return compile_geo(geo).allows(fields)


# --- retry ---------------------------------------------------------------------------------


def validate_retry(retry) -> None:
    """``{"max_attempts": 1–20, "backoff_seconds": 0–86400}``; missing keys use the defaults."""
    retry = _mapping(retry, "retry")
    if retry is None:
        return
    _unknown_keys(retry, tuple(RETRY_LIMITS), "retry")
    for key, value in retry.items():
        low, high = RETRY_LIMITS[key]
        if not _is_int(value) or not low <= value <= high:
            raise RuleError(f"retry.{key} must be a whole number from {low} to {high}.")
