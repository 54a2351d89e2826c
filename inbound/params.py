"""A handler's parameters: reading them out of parsed data, checking their types, mapping them.

``extract`` returns ``{parameter name: value}``; ``lead_values`` turns that into
``{lead field: value}`` through the handler's mappings. Problems raise ``ParameterError`` whose
``errors`` are DRF-shaped and keyed by parameter name, so a 400 names what the caller sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from .parsing import leaves, resolve

PARAMETER_TYPES = ("text", "integer", "number", "boolean", "array")
TYPE_ALIASES = {
    "string": "text",
    "str": "text",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
}
MAX_VALUES = 500
MAX_NUMBER = Decimal("1e18")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
# NUL cannot be stored by PostgreSQL; lone surrogates cannot be encoded as UTF-8.
_FORBIDDEN = re.compile(r"[\x00\ud800-\udfff]")


class ParameterError(ValueError):
    """Missing or invalid parameters: ``errors`` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        name, messages = next(iter(errors.items()))
        super().__init__(f"{name}: {messages[0]}")


class InvalidParameter(ValueError):
    """One value that does not fit its declared type."""


def _scalar_text(value) -> str:
    if isinstance(value, (dict, list)):
        raise InvalidParameter("must be a single value, not an object or list")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _as_integer(value) -> int:
    if isinstance(value, bool):
        raise InvalidParameter("must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _scalar_text(value).strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidParameter("must be an integer")
    return int(text)


def _as_number(value) -> int | float:
    if isinstance(value, bool):
        raise InvalidParameter("must be a number")
    if isinstance(value, (int, float)):
        return value
    text = _scalar_text(value).strip()
    try:
        number = Decimal(text) if len(text) <= 40 else Decimal("nan")
    except InvalidOperation as exc:
        raise InvalidParameter("must be a number") from exc
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise InvalidParameter("must be a finite number below 10^18")
    return int(number) if number == number.to_integral_value() else float(number)


def _as_boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _scalar_text(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameter("must be a boolean (true/false, yes/no, 1/0)")


def _as_array(value) -> list:
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, (dict, list)) for v in values):
        raise InvalidParameter("must be a list of single values")
    return values


def _as_text(value) -> str:
    return _scalar_text(value)


COERCE = {
    "text": _as_text,
    "string": _as_text,
    "integer": _as_integer,
    "number": _as_number,
    "boolean": _as_boolean,
    "array": _as_array,
}


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def check_text(value) -> None:
    """InvalidParameter when a string anywhere in ``value`` cannot be stored (NUL, surrogates)."""
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            raise InvalidParameter("contains a NUL or an invalid unicode character")
    elif isinstance(value, list):
        for item in value:
            check_text(item)


def extract(parameters: Iterable[Mapping], data: object) -> dict:
    """``{name: value}`` of the declared ``parameters`` found in ``data``, typed.

    With no declared parameters every leaf of ``data`` is a parameter, kept as sent.
    Raises ParameterError naming each missing required or invalid parameter.
    """
    parameters = list(parameters)
    if not parameters:
        return _undeclared(data)
    values: dict = {}
    errors: dict[str, list[str]] = {}
    for parameter in parameters:
        name = parameter.get("name") if isinstance(parameter, Mapping) else None
        if not isinstance(name, str) or not name:
            continue  # a malformed entry saved around validation (e.g. through the ORM)
        raw = resolve(data, name)
        if is_blank(raw):
            if parameter.get("required"):
                errors[name] = ["This parameter is required."]
            continue
        try:
            value = COERCE.get(parameter.get("type") or "text", _as_text)(raw)
            check_text(value)
        except InvalidParameter as exc:
            errors[name] = [f"{name} {exc}."]
            continue
        values[name] = value
    if errors:
        raise ParameterError(errors)
    return values


def _undeclared(data: object) -> dict:
    values: dict = {}
    errors: dict[str, list[str]] = {}
    for count, (path, value) in enumerate(leaves(data)):
        if count >= MAX_VALUES:
            raise ParameterError({"body": [f"More than {MAX_VALUES} values; declare parameters."]})
        if is_blank(value):
            continue
        try:
            check_text(path)
            check_text(value)
        except InvalidParameter as exc:
            errors[path[:100]] = [f"{path[:100]} {exc}."]
            continue
        values[path] = value
    if errors:
        raise ParameterError(errors)
    return values


def lead_values(mappings: Iterable[Mapping], params: Mapping) -> dict:
    """``{lead field: value}``: each mapping copies its parameter; no mappings copies every
    parameter under its own name."""
    pairs = [
        (m.get("parameter"), m.get("lead_field"))
        for m in mappings
        if isinstance(m, Mapping) and isinstance(m.get("lead_field"), str)
    ]
    if not pairs:
        return dict(params)
    return {field: params[parameter] for parameter, field in pairs if parameter in params}


def parameter_for(mappings: Iterable[Mapping], lead_field: str) -> str:
    """The parameter mapped to ``lead_field`` (the lead field's own name when unmapped)."""
    for mapping in mappings:
        if isinstance(mapping, Mapping) and mapping.get("lead_field") == lead_field:
            return mapping["parameter"]
    return lead_field


def condition_data(params: Mapping, parsed: object) -> dict:
    """What conditions see: the parsed body's top level plus every parameter by its name."""
    base = dict(parsed) if isinstance(parsed, Mapping) else {}
    base.update(params)
    return base
