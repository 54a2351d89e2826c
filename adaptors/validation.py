"""Validation of adaptor settings, shared by the API serializer and the console form.

Each ``validate_*`` returns the cleaned value or raises Django's ``ValidationError`` with one
message per problem, each naming the row and key (``mappings[2].transform: unknown transform
'uper' …``), so DRF answers ``{"mappings": [...]}`` and the console shows them on the field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from .errors import RenderError, TemplateRejected
from .render import DEFAULT_XML_ROOT, valid_xml_name, xml_name_problems
from .templating import FORMATS, MAX_TEMPLATE_CHARS, compile_template, render_template
from .transforms import TransformError, parse_transform

MAX_ROWS = 500
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 10_000
MAPPING_KEYS = ("source", "target", "default", "transform")
CONSTANT_KEYS = ("name", "value")
_SCALARS = (str, int, float, bool)

# Standard sample values: the preview's lead when a tenant has none, and the trial render
# that catches template errors when an adaptor is saved.
SAMPLE_FIELDS: dict[str, Any] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550100",
    "address": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "zip_code": "94105",
    "country": "US",
    "ip_address": "203.0.113.7",
}


def _rows(value: Any, field: str) -> list:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{field} must be a list of objects.")
    if len(value) > MAX_ROWS:
        raise ValidationError(f"{field} may have at most {MAX_ROWS} rows.")
    return value


def _name(row: dict, key: str, where: str, errors: list[str], *, dotted: bool) -> str | None:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}.{key}: is required (text).")
        return None
    value = value.strip()
    if len(value) > MAX_NAME_CHARS:
        errors.append(f"{where}.{key}: may be at most {MAX_NAME_CHARS} characters.")
        return None
    if dotted and any(not part.strip() for part in value.split(".")):
        errors.append(f"{where}.{key}: '{value}' has an empty part between dots.")
        return None
    return value


def _scalar(value: Any, where: str, errors: list[str]) -> Any:
    if not isinstance(value, _SCALARS):
        errors.append(f"{where}: must be text, a number or true/false.")
    elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        errors.append(f"{where}: may be at most {MAX_TEXT_CHARS} characters.")
    return value


def _unknown_keys(row: dict, allowed: tuple[str, ...], where: str, errors: list[str]) -> None:
    for key in row:
        if key not in allowed:
            errors.append(f"{where}: unknown key '{key}' (allowed: {', '.join(allowed)}).")


def validate_mappings(value: Any) -> list[dict]:
    """``[{"source", "target", "default"?, "transform"?}]`` cleaned (blank optional keys dropped)."""
    errors: list[str] = []
    cleaned: list[dict] = []
    for index, row in enumerate(_rows(value, "mappings")):
        where = f"mappings[{index}]"
        if not isinstance(row, dict):
            errors.append(f"{where}: must be an object with source and target.")
            continue
        _unknown_keys(row, MAPPING_KEYS, where, errors)
        mapping: dict[str, Any] = {
            "source": _name(row, "source", where, errors, dotted=False),
            "target": _name(row, "target", where, errors, dotted=True),
        }
        if row.get("default") is not None:
            mapping["default"] = _scalar(row["default"], f"{where}.default", errors)
        transform = row.get("transform")
        if transform not in (None, ""):
            if not isinstance(transform, str):
                errors.append(f"{where}.transform: must be text, e.g. 'digits|truncate:5'.")
            else:
                try:
                    parse_transform(transform)
                    mapping["transform"] = transform.strip()
                except TransformError as exc:
                    errors.append(f"{where}.transform: {exc}")
        cleaned.append(mapping)
    if errors:
        raise ValidationError(errors)
    return cleaned


def validate_constants(value: Any) -> list[dict]:
    """``[{"name", "value"}]`` cleaned; values are text, numbers or booleans."""
    errors: list[str] = []
    cleaned: list[dict] = []
    for index, row in enumerate(_rows(value, "constants")):
        where = f"constants[{index}]"
        if not isinstance(row, dict):
            errors.append(f"{where}: must be an object with name and value.")
            continue
        _unknown_keys(row, CONSTANT_KEYS, where, errors)
        name = _name(row, "name", where, errors, dotted=True)
        constant_value = _scalar(row.get("value", ""), f"{where}.value", errors)
        cleaned.append({"name": name, "value": constant_value})
    if errors:
        raise ValidationError(errors)
    return cleaned


def validate_targets(mappings: list[dict], constants: list[dict]) -> None:
    """Refuse a target sent twice, or both as a value and as a parent (``a`` and ``a.b``)."""
    errors: list[str] = []
    seen: dict[str, str] = {}
    rows = [(f"mappings[{i}].target", m.get("target")) for i, m in enumerate(mappings)]
    rows += [(f"constants[{i}].name", c.get("name")) for i, c in enumerate(constants)]
    for where, name in rows:
        if not name:
            continue
        if name in seen:
            errors.append(f"{where}: '{name}' is already sent by {seen[name]}.")
            continue
        seen[name] = where
    names = set(seen)
    for name, where in seen.items():
        parts = name.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if parent in names:
                errors.append(
                    f"{where}: '{name}' nests inside '{parent}', which {seen[parent]} sends as a value."
                )
    if errors:
        raise ValidationError(errors)


def validate_body_template(value: Any) -> str:
    """The template if it compiles, stays in the sandbox and its limits for a sample lead."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValidationError("body_template must be text.")
    if len(value) > MAX_TEMPLATE_CHARS:
        raise ValidationError(f"body_template may be at most {MAX_TEMPLATE_CHARS:,} characters.")
    context = {
        "lead": {"id": 1, "fields": SAMPLE_FIELDS},
        "fields": SAMPLE_FIELDS,
        "mapped": {},
        "constants": {},
    }
    for fmt in FORMATS:
        try:
            compile_template(fmt, value)
            render_template(fmt, value, context)
        except TemplateRejected as exc:
            raise ValidationError(str(exc)) from exc
        except RenderError:
            # Depends on the lead's values (say, 1 / fields.count): the preview shows it.
            continue
    return value


def validate_xml_root(value: Any) -> str:
    name = (value or "").strip() if isinstance(value, str) else value
    if name in (None, ""):
        return DEFAULT_XML_ROOT
    if not isinstance(name, str) or not valid_xml_name(name):
        raise ValidationError(
            f"'{name}' is not a valid XML element name (letters, digits, _ - . ; no spaces or ':')."
        )
    return name


def problems_for_content_type(adaptor, content_type: str) -> list[str]:
    """Why ``adaptor`` cannot build ``content_type`` bodies (empty when it can).

    For the endpoint serializer: an XML endpoint needs targets that are XML element names.
    """
    if adaptor is None or content_type != "xml":
        return []
    return [message for _, message in xml_name_problems(adaptor)]
