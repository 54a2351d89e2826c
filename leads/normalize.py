"""Normalise lead values by field type. Each normaliser returns the clean value or raises
``InvalidValue`` with a message fit for a 400 that names the field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import FieldType


class InvalidValue(ValueError):
    """A value that cannot be normalised to its field's type."""


_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "U.S. Virgin Islands",
    "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
    # Canadian provinces and territories
    "AB": "Alberta",
    "BC": "British Columbia",
    "MB": "Manitoba",
    "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador",
    "NS": "Nova Scotia",
    "NT": "Northwest Territories",
    "NU": "Nunavut",
    "ON": "Ontario",
    "PE": "Prince Edward Island",
    "QC": "Quebec",
    "SK": "Saskatchewan",
    "YT": "Yukon",
}
_STATE_LOOKUP = (
    {code.lower(): code for code in _STATES}
    | {name.lower(): code for code, name in _STATES.items()}
    | {
        "washington dc": "DC",
        "washington d.c.": "DC",
        "d.c.": "DC",
        "virgin islands": "VI",
        "us virgin islands": "VI",
        "québec": "QC",
        "newfoundland": "NL",
        "yukon territory": "YT",
    }
)

_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f", ""}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y/%m/%d", "%d.%m.%Y")


def _text(value) -> str:
    if isinstance(value, (dict, list)):
        raise InvalidValue("must be a single value, not an object or list")
    return "" if value is None else str(value).strip()


def normalize_text(value) -> str:
    text = _text(value)
    if len(text) > 10_000:
        raise InvalidValue("is longer than 10000 characters")
    return text


def normalize_email(value) -> str:
    text = _text(value).lower()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise InvalidValue("is not a valid email address") from exc
    return text


def normalize_phone(value, region: str = "US") -> str:
    text = _text(value)
    if len(text) > 40:
        raise InvalidValue("is not a valid phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("is not a valid phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_state(value) -> str:
    text = re.sub(r"\s+", " ", _text(value)).lower()
    code = _STATE_LOOKUP.get(text)
    if code is None:
        raise InvalidValue("is not a US state, territory or Canadian province")
    return code


def normalize_zip(value) -> str:
    text = _text(value)
    match = re.fullmatch(r"(\d{5})(?:[-\s]?\d{4})?", text)
    if match is None:
        if re.fullmatch(r"\d{3,4}", text):
            # Spreadsheets drop leading zeros from New England ZIPs.
            return text.zfill(5)
        raise InvalidValue("is not a valid ZIP code")
    return match.group(1)


def normalize_number(value) -> int | float:
    if isinstance(value, bool):
        raise InvalidValue("is not a number")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = Decimal(str(value))
    else:
        text = _text(value).replace(",", "")
        if len(text) > 40:
            raise InvalidValue("is not a number")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise InvalidValue("is not a number") from exc
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        raise InvalidValue("is not a finite number below 10^15")
    return int(number) if number == number.to_integral_value() else float(number)


def normalize_date(value) -> str:
    text = _text(value)
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise InvalidValue("is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def normalize_boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue("is not a boolean (true/false, yes/no, 1/0)")


NORMALIZERS: dict[str, Callable] = {
    FieldType.TEXT: normalize_text,
    FieldType.EMAIL: normalize_email,
    FieldType.PHONE: normalize_phone,
    FieldType.STATE: normalize_state,
    FieldType.ZIP: normalize_zip,
    FieldType.NUMBER: normalize_number,
    FieldType.DATE: normalize_date,
    FieldType.BOOLEAN: normalize_boolean,
}


def normalize_value(field_type: str, value):
    return NORMALIZERS.get(field_type, normalize_text)(value)


def normalize_fields(
    values: Mapping, types: Mapping[str, str], required: frozenset[str] | set[str] = frozenset()
) -> tuple[dict, dict[str, list[str]]]:
    """Normalise ``values`` by the declared ``types``; unknown names are kept as text.

    Empty values are dropped. Returns ``(clean, errors)`` where errors is DRF-shaped
    ``{field: [message]}``; a missing required field is an error too.
    """
    clean: dict = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        name = str(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            clean[name] = normalize_value(types.get(name, FieldType.TEXT), value)
        except InvalidValue as exc:
            errors[name] = [f"{name} {exc}."]
    for name, messages in missing_required(clean, required).items():
        errors.setdefault(name, messages)
    return clean, errors


def missing_required(clean: Mapping, required) -> dict[str, list[str]]:
    """``{name: ["<name> is required."]}`` for each required name absent from ``clean``."""
    return {name: [f"{name} is required."] for name in sorted(required) if name not in clean}
