"""Value transforms for adaptor mappings: ``digits|truncate:5``, ``date:%m/%d/%Y``, ``map:{...}``.

A transform spec is one or more steps joined by ``|``; each step is a name with an optional
``:argument``. ``parse_transform(spec)`` validates the whole spec (raising ``TransformError``, a
ValueError, with a message naming the bad step) and returns a callable; parsed specs are cached,
so applying one on the delivery hot path costs no parsing.

Applying a transform never raises. The contract per step:

============== ===========================================================================
``upper``      upper-case text
``lower``      lower-case text
``title``      Title Case text
``trim``       strip surrounding whitespace
``digits``     keep the ASCII digits 0-9 only ("" when there are none)
``phone_e164`` ``+14155550100``; "" when the value is not a valid phone number (US default)
``phone_10``   the 10-digit US national number ``4155550100``; "" when it is not a US number
``date:FMT``   an ISO date or datetime (also MM/DD/YYYY) re-formatted with strftime ``FMT``;
               "" when the value is not a date
``map:{...}``  JSON lookup table; exact match first, then case-insensitive; unmapped values
               pass through unchanged
``truncate:N`` the first N characters
``prefix:X``   ``X`` + value (empty values stay empty)
``suffix:X``   value + ``X`` (empty values stay empty)
============== ===========================================================================

Values are read as text (``True`` → ``"true"``, ``None`` → ``""``, objects → compact JSON). A
list is transformed element by element and stays a list. Steps that cannot read their input
return "" so a mapping's ``default`` applies and a buyer never receives a malformed value.
Arguments run to the next ``|`` (a ``map`` table is JSON, so it may contain ``|``); spaces
around them are ignored except in ``prefix``/``suffix``, whose text is taken as written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import phonenumbers

Step = Callable[[Any], Any]

MAX_SPEC_CHARS = 10_000
_PHONE_MAX_CHARS = 40
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
_NOT_DIGIT = re.compile(r"[^0-9]+")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_US_E164 = re.compile(r"\+1([2-9][0-9]{9})")
_DATE_FORMATS = ("%m/%d/%Y", "%m-%d-%Y", "%Y/%m/%d", "%d.%m.%Y")
_SAMPLE_DATETIME = dt.datetime(2024, 1, 31, 13, 45, 7)
_DECODER = json.JSONDecoder()


class TransformError(ValueError):
    """A transform spec that cannot be used; the message names the bad step."""


def as_text(value: Any) -> str:
    """How a lead value reads as text: booleans in JSON spelling, None as "", objects as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


# --- the steps ---------------------------------------------------------------------------


def _upper(value: Any) -> str:
    return as_text(value).upper()


def _lower(value: Any) -> str:
    return as_text(value).lower()


def _title(value: Any) -> str:
    return as_text(value).title()


def _trim(value: Any) -> str:
    return as_text(value).strip()


def _digits(value: Any) -> str:
    return _NOT_DIGIT.sub("", as_text(value))


def _parse_phone(text: str) -> phonenumbers.PhoneNumber | None:
    if not text or len(text) > _PHONE_MAX_CHARS:
        return None
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _phone_e164(value: Any) -> str:
    text = as_text(value).strip()
    if _E164.fullmatch(text):  # stored leads are already E.164: skip the costly parse
        return text
    number = _parse_phone(text)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_10(value: Any) -> str:
    text = as_text(value).strip()
    match = _US_E164.fullmatch(text)
    if match:
        return match.group(1)
    number = _parse_phone(text)
    if number is None or number.country_code != 1:
        return ""
    return str(number.national_number).zfill(10)


def _read_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):  # datetime is a date too
        return value
    text = as_text(value).strip()
    if not text or len(text) > 64:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _make_date(fmt: str) -> Step:
    def date(value: Any) -> str:
        when = _read_date(value)
        if when is None:
            return ""
        try:
            return when.strftime(fmt)
        except (ValueError, OverflowError):
            return ""

    return date


def _make_map(table: Mapping[str, Any]) -> Step:
    exact = dict(table)
    folded = {key.casefold(): target for key, target in reversed(table.items())}

    def lookup(value: Any) -> Any:
        key = as_text(value)
        if key in exact:
            return exact[key]
        return folded.get(key.casefold(), value)

    return lookup


def _make_truncate(length: int) -> Step:
    def truncate(value: Any) -> str:
        return as_text(value)[:length]

    return truncate


def _make_affix(text: str, *, before: bool) -> Step:
    def affix(value: Any) -> str:
        current = as_text(value)
        if not current:
            return current
        return text + current if before else current + text

    return affix


# --- building steps from names and arguments ---------------------------------------------

_PLAIN: dict[str, Step] = {
    "upper": _upper,
    "lower": _lower,
    "title": _title,
    "trim": _trim,
    "digits": _digits,
    "phone_e164": _phone_e164,
    "phone_10": _phone_10,
}
_WITH_ARGUMENT = ("date", "map", "truncate", "prefix", "suffix")
_VERBATIM = frozenset({"prefix", "suffix"})  # their spaces are part of the text to add
NAMES: tuple[str, ...] = (*_PLAIN, *_WITH_ARGUMENT)

# Shown as hints in the console and in error messages.
EXAMPLES: tuple[str, ...] = (
    "upper",
    "lower",
    "title",
    "trim",
    "digits",
    "phone_e164",
    "phone_10",
    "date:%m/%d/%Y",
    'map:{"CA": "California"}',
    "truncate:5",
    "prefix:+1",
    "suffix: LLC",
    "digits|truncate:5",
)


def build_step(name: str, argument: Any = None) -> Step:
    """One transform step from its name and argument; raises TransformError when unusable.

    Also used by the body template, where the steps are filters (``fields.dob|date('%Y')``).
    """
    if name in _PLAIN:
        if argument is not None:
            raise TransformError(f"'{name}' takes no argument.")
        return _PLAIN[name]
    if name == "date":
        if not isinstance(argument, str) or "%" not in argument:
            raise TransformError("'date' needs a strftime format, e.g. date:%m/%d/%Y.")
        try:
            _SAMPLE_DATETIME.strftime(argument)
        except ValueError as exc:
            raise TransformError(f"'date' format {argument!r} is invalid: {exc}.") from exc
        return _make_date(argument)
    if name == "map":
        if not isinstance(argument, Mapping) or not argument:
            raise TransformError('\'map\' needs a JSON object, e.g. map:{"CA": "California"}.')
        for key, target in argument.items():
            if not isinstance(key, str) or isinstance(target, (dict, list)):
                raise TransformError(
                    f"'map' entries must map text to a text, number or boolean; {key!r} does not."
                )
        return _make_map(argument)
    if name == "truncate":
        try:
            length = int(str(argument).strip()) if argument is not None else -1
        except ValueError:
            length = -1
        if length < 1:
            raise TransformError("'truncate' needs a whole number of characters, e.g. truncate:5.")
        return _make_truncate(length)
    if name in ("prefix", "suffix"):
        if not isinstance(argument, str) or not argument:
            raise TransformError(f"'{name}' needs some text, e.g. {name}:+1.")
        return _make_affix(argument, before=name == "prefix")
    raise TransformError(f"unknown transform '{name}' (known: {', '.join(NAMES)}).")


def _split_steps(spec: str) -> list[tuple[str, Any]]:
    """``"digits|truncate:5"`` → ``[("digits", None), ("truncate", "5")]``."""
    steps: list[tuple[str, Any]] = []
    pos, end = 0, len(spec)
    while True:
        match = _NAME.match(spec, pos)
        if match is None:
            raise TransformError(f"expected a transform name at character {pos + 1} of {spec!r}.")
        name, pos = match.group(1), match.end()
        argument: Any = None
        if pos < end and spec[pos] == ":":
            pos += 1
            if name == "map":
                start = len(spec) - len(spec[pos:].lstrip())
                try:
                    argument, pos = _DECODER.raw_decode(spec, start)
                except json.JSONDecodeError as exc:
                    raise TransformError(f"'map' table is not valid JSON: {exc.msg}.") from exc
                while pos < end and spec[pos].isspace():
                    pos += 1
            else:
                stop = spec.find("|", pos)
                stop = end if stop == -1 else stop
                argument, pos = spec[pos:stop], stop
                if name not in _VERBATIM:
                    argument = argument.strip()
        steps.append((name, argument))
        if pos >= end:
            return steps
        if spec[pos] != "|":
            raise TransformError(f"unexpected {spec[pos]!r} after '{name}' in {spec!r}.")
        pos += 1


def _chain(steps: list[Step]) -> Step:
    def apply(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [apply(item) for item in value]
        for step in steps:
            value = step(value)
        return value

    return apply


def parse_transform(spec: str) -> Step:
    """Validate ``spec`` and return the callable applying it; raises TransformError.

    An empty spec is the identity. The callable never raises (see the module docstring).
    """
    if not isinstance(spec, str):
        raise TransformError("a transform must be text, e.g. 'digits|truncate:5'.")
    return _parse(spec)


@lru_cache(maxsize=2048)
def _parse(spec: str) -> Step:
    if not spec.strip():
        return _identity
    if len(spec) > MAX_SPEC_CHARS:
        raise TransformError(f"a transform may be at most {MAX_SPEC_CHARS} characters.")
    return _chain([build_step(name, argument) for name, argument in _split_steps(spec)])


def _identity(value: Any) -> Any:
    return value
