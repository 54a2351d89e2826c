"""Reading data values defensively: dotted-path lookup (``resolve``), coercion to numbers,
dates, booleans and text, emptiness, expected-value sets, and the per-value tests (text, order,
RE2 regex) that compiled rules apply to a scalar or to each element of a list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import re2

from .spec import MAX_REGEX_LENGTH, ConditionError

_MISSING = object()
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})


# --- reading data values -------------------------------------------------------------------


def resolve(data, path: str):
    """The value at dotted ``path`` in ``data``, or the module's missing marker."""
    if isinstance(data, Mapping) and path in data:
        return data[path]
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return _MISSING
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _number(value) -> Decimal | None:
    """A Decimal for JSON numbers and numeric-looking text; None otherwise (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and len(value) <= 64:
        text = value.strip()
        if _NUMBER_RE.fullmatch(text):
            try:
                return Decimal(text)
            except InvalidOperation:
                return None
    return None


def _moment(value) -> dt.datetime | None:
    """An aware datetime for ISO date/datetime text; naive values are taken as UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and len(value) <= 40 and _DATE_RE.fullmatch(value.strip()):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _boolean(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _text(value) -> str | None:
    """Text form of a scalar; None for objects and lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        try:
            return str(value)
        except ValueError:  # an integer too long to print
            return None
    return None


def _is_empty(value) -> bool:
    if value is _MISSING or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, Mapping)):
        return len(value) == 0
    return False


def _fold(text: str, ci: bool) -> str:
    return text.casefold() if ci else text


# --- compiled conditions -------------------------------------------------------------------


@dataclass(frozen=True)
class _Values:
    """A set of expected scalars, pre-sorted by how each kind of data value compares."""

    texts: frozenset[str]
    json_numbers: frozenset[Decimal]  # numbers given as JSON numbers
    all_numbers: frozenset[Decimal]  # JSON numbers plus numeric-looking text
    booleans: frozenset[bool]
    has_bool: bool
    ci: bool

    @classmethod
    def of(cls, values: list, ci: bool) -> _Values:
        texts, json_numbers, all_numbers, booleans = set(), set(), set(), set()
        has_bool = False
        for value in values:
            if isinstance(value, bool):
                has_bool = True
            elif isinstance(value, (int, float)):
                json_numbers.add(_number(value))
            text = _text(value)
            if text is not None:
                texts.add(_fold(text, ci))
            number = _number(value)
            if number is not None:
                all_numbers.add(number)
            flag = _boolean(value)
            if flag is not None:
                booleans.add(flag)
        json_numbers.discard(None)
        return cls(
            frozenset(texts),
            frozenset(json_numbers),
            frozenset(all_numbers),
            frozenset(booleans),
            has_bool,
            ci,
        )

    def matches(self, actual) -> bool:
        if isinstance(actual, list):
            return any(self.matches(item) for item in actual if not isinstance(item, list))
        if isinstance(actual, bool):
            return actual in self.booleans
        if isinstance(actual, (int, float)):
            if _number(actual) in self.all_numbers:
                return True
            return self.has_bool and _boolean(actual) in self.booleans
        if isinstance(actual, str):
            if _fold(actual, self.ci) in self.texts:
                return True
            if self.json_numbers and _number(actual) in self.json_numbers:
                return True
            return self.has_bool and _boolean(actual) in self.booleans
        return False


def _any_item(test: Callable[[object], bool]) -> Callable[[object], bool]:
    """Apply ``test`` to a scalar, or to each element of a list (any)."""

    def check(actual) -> bool:
        if isinstance(actual, list):
            return any(test(item) for item in actual)
        return test(actual)

    return check


def _text_test(predicate: Callable[[str], bool], ci: bool) -> Callable[[object], bool]:
    def test(actual) -> bool:
        text = _text(actual)
        return text is not None and predicate(_fold(text, ci))

    return _any_item(test)


def _order_test(read: Callable, predicate: Callable) -> Callable[[object], bool]:
    def test(actual) -> bool:
        value = read(actual)
        return value is not None and predicate(value)

    return _any_item(test)


@lru_cache(maxsize=2)
def _regex_options(ci: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a tenant's bad pattern is a 400, not a log line
    options.case_sensitive = not ci
    options.max_mem = 8 << 20
    return options


@lru_cache(maxsize=512)
def compile_regex(pattern: str, ci: bool = False):
    """A compiled RE2 pattern (cached); raises ConditionError for an invalid or long one."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ConditionError(f"is longer than {MAX_REGEX_LENGTH} characters")
    try:
        return re2.compile(pattern, _regex_options(ci))
    except re2.error as exc:
        detail = exc.args[0] if exc.args else "invalid"
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ConditionError(f"is not a valid regular expression ({detail})") from exc
    except UnicodeError as exc:
        raise ConditionError("is not a valid regular expression (bad characters)") from exc


def _regex_test(pattern, actual) -> bool:
    text = _text(actual)
    if text is None:
        return False
    try:
        return pattern.search(text) is not None
    except UnicodeError:  # lone surrogates cannot be encoded for RE2
        return False
