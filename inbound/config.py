"""Checking and deriving a handler's configuration; shared by the API serializer and console form.

Each ``validate_*`` returns the cleaned value or raises ``ConfigError`` with a message fit for
a 400 under that field's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from endpoints.signing import validate_secret as _validate_whsec
from leads import conditions

from .models import BodyType
from .params import PARAMETER_TYPES, TYPE_ALIASES
from .parsing import BodyError, leaves, parse_json, parse_xml
from .responses import ResponseConfigError
from .responses import validate_response as _validate_response
from .security import normalise_networks

MAX_PARAMETERS = 200
MAX_NAME = 200
MAX_PROTECTION_SECONDS = 30 * 24 * 3600
ACTION_TYPES = ("distribute", "deliver", "notify")
_LEAD_FIELD = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ConfigError(ValueError):
    """A configuration value that cannot be saved."""


def _check_list(value, what: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ConfigError(f"Must be a list of {what}.")
    return value


def validate_parameters(value) -> list[dict]:
    """``[{"name", "type", "required"}]`` with unique dotted names and known types."""
    items = _check_list(value, 'objects like {"name": "contact.email", "type": "text"}')
    if len(items) > MAX_PARAMETERS:
        raise ConfigError(f"At most {MAX_PARAMETERS} parameters.")
    clean: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ConfigError(f"Parameter {index + 1} must be an object with name and type.")
        unknown = set(item) - {"name", "type", "required"}
        if unknown:
            raise ConfigError(
                f"Parameter {index + 1} has unknown keys: {sorted(map(str, unknown))}."
            )
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise ConfigError(
                f"Parameter {index + 1} needs a name (at most {MAX_NAME} characters)."
            )
        name = name.strip()
        if any(not part for part in name.split(".")) or "\x00" in name:
            raise ConfigError(f"Parameter name {name!r} has an empty path segment.")
        if name in seen:
            raise ConfigError(f"Parameter {name!r} is declared twice.")
        seen.add(name)
        ptype = item.get("type") or "text"
        ptype = TYPE_ALIASES.get(ptype, ptype) if isinstance(ptype, str) else ptype
        if ptype not in PARAMETER_TYPES:
            raise ConfigError(
                f"Parameter {name!r} has unknown type {item.get('type')!r}; "
                f"use one of {', '.join(PARAMETER_TYPES)}."
            )
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise ConfigError(f"Parameter {name!r}: required must be true or false.")
        clean.append({"name": name, "type": ptype, "required": required})
    return clean


def validate_mappings(value, parameters: list[dict]) -> list[dict]:
    """``[{"parameter", "lead_field"}]``: declared parameters, each lead field targeted once."""
    items = _check_list(value, 'objects like {"parameter": "contact.email", "lead_field": "email"}')
    declared = {p["name"] for p in parameters}
    clean: list[dict] = []
    targets: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or set(item) != {"parameter", "lead_field"}:
            raise ConfigError(
                f"Mapping {index + 1} must be an object with parameter and lead_field."
            )
        parameter, field = item["parameter"], item["lead_field"]
        if not isinstance(parameter, str) or not parameter.strip():
            raise ConfigError(f"Mapping {index + 1} needs a parameter.")
        if declared and parameter not in declared:
            raise ConfigError(f"Mapping {index + 1}: parameter {parameter!r} is not declared.")
        if not isinstance(field, str) or not _LEAD_FIELD.fullmatch(field):
            raise ConfigError(
                f"Mapping {index + 1}: lead_field must be a lead field name (letters, digits, _)."
            )
        if field in targets:
            raise ConfigError(f"Lead field {field!r} is mapped twice.")
        targets.add(field)
        clean.append({"parameter": parameter.strip(), "lead_field": field})
    return clean


def validate_conditions(value):
    """The condition unchanged when the shared conditions module accepts it."""
    try:
        conditions.validate(value)
    except conditions.ConditionError as exc:
        raise ConfigError(str(exc)) from exc
    return value or None


def validate_response(value) -> dict:
    try:
        return _validate_response(value)
    except ResponseConfigError as exc:
        raise ConfigError(str(exc)) from exc


def validate_actions(value, tenant) -> list[dict]:
    """Actions: ``distribute``; ``deliver`` with one of the tenant's endpoint ids; ``notify``
    with an email address."""
    items = _check_list(value, "actions")
    clean: list[dict] = []
    endpoint_ids: list[int] = []
    for index, item in enumerate(items):
        where = f"Action {index + 1}"
        if not isinstance(item, Mapping) or item.get("type") not in ACTION_TYPES:
            raise ConfigError(f"{where} needs a type: {', '.join(ACTION_TYPES)}.")
        kind = item["type"]
        expected = {"distribute": {"type"}, "deliver": {"type", "endpoint"}}.get(
            kind, {"type", "email"}
        )
        if set(item) != expected:
            raise ConfigError(f"{where} ({kind}) takes exactly: {', '.join(sorted(expected))}.")
        if kind == "deliver":
            endpoint = item["endpoint"]
            if isinstance(endpoint, bool) or not isinstance(endpoint, int):
                raise ConfigError(f"{where}: endpoint must be an endpoint id.")
            endpoint_ids.append(endpoint)
        if kind == "notify":
            email = item["email"]
            try:
                validate_email(email if isinstance(email, str) else "")
            except ValidationError as exc:
                raise ConfigError(f"{where}: {email!r} is not an email address.") from exc
            item = {"type": kind, "email": email.strip().lower()}
        clean.append(dict(item))
    if endpoint_ids:
        endpoint_model = apps.get_model("endpoints", "Endpoint")
        found = set(
            endpoint_model.objects.for_tenant(tenant)
            .filter(pk__in=endpoint_ids)
            .values_list("pk", flat=True)
        )
        missing = [pk for pk in endpoint_ids if pk not in found]
        if missing:
            raise ConfigError(f"Endpoint {missing[0]} not found.")
    return clean


def validate_allowed_ips(value) -> list[str]:
    items = _check_list(value, 'CIDR ranges like "203.0.113.0/24" or "2001:db8::/32"')
    try:
        return normalise_networks(items)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def validate_secret(value: str) -> str:
    """``""`` (no signing) or a Standard Webhooks ``whsec_…`` secret."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        _validate_whsec(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return value


def validate_protection_period(value: int) -> int:
    if value is None:
        return 0
    if not 0 <= value <= MAX_PROTECTION_SECONDS:
        raise ConfigError(f"Must be between 0 and {MAX_PROTECTION_SECONDS} seconds (30 days).")
    return value


def infer_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "text"


def parameters_from_template(template: str, body_type: str, previous=()) -> list[dict]:
    """Parameters generated from a sample body: one per leaf path, its type inferred.

    The sample is JSON (or XML for an XML handler). A parameter that already existed keeps
    its ``required`` flag. ConfigError when the sample does not parse.
    """
    raw = template.encode("utf-8", "replace")
    try:
        if body_type == BodyType.XML and template.lstrip().startswith("<"):
            data = parse_xml(raw)
        else:
            data = parse_json(raw)
    except BodyError as exc:
        raise ConfigError(f"The sample does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("The sample must be a JSON object.")
    required = {p.get("name"): p.get("required", False) for p in previous or ()}
    generated = [
        {"name": path, "type": infer_type(value), "required": bool(required.get(path, False))}
        for path, value in leaves(data)
    ]
    if not generated:
        raise ConfigError("The sample has no values to turn into parameters.")
    if len(generated) > MAX_PARAMETERS:
        raise ConfigError(f"The sample has more than {MAX_PARAMETERS} values.")
    return generated


def sample_from_template(template: str) -> object | None:
    """The sample body as data, or None when there is none or it does not parse."""
    if not template.strip():
        return None
    try:
        return json.loads(template)
    except ValueError:
        return None
