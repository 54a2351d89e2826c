"""Conditions: the one rule language for endpoint filters (on lead fields) and inbound
conditions (on request parameters).

Shape (JSON)::

    {"all": [rule, ...]}   every rule holds (an empty "all" holds)
    {"any": [rule, ...]}   at least one rule holds (must list at least one rule)
    {"not": rule}          the rule does not hold
    {"field": "contact.email", "op": "ends_with", "value": "@example.com", "ci": true}

``None`` or ``{}`` is "no condition" and always holds.

Semantics, decided once here:

- ``field`` is a dotted path into nested data (``contact.email``; a number indexes a list,
  ``items.0.sku``). A key that itself contains dots (``"contact.email": ...``) wins over the
  nested path.
- A missing field (absent, or ``null``) is treated as empty: ``empty`` holds, ``exists`` and
  ``not_empty`` do not, the negative ops ``ne``, ``not_in`` and ``not_contains`` hold, and every
  other op is false. ``exists`` holds for any present non-null value, even ``""``; ``empty``
  holds for missing values, blank strings and empty lists/objects.
- Equality (``eq``, ``ne``, ``in``, ``not_in``): when either side is a JSON number the other
  side is compared numerically if it looks like a number (``"1" == 1 == 1.0``); when either side
  is a boolean, ``true/false/yes/no/1/0`` compare as booleans; otherwise both sides compare as
  text, case-sensitively unless ``"ci": true``. Two strings never compare numerically, so ZIP
  ``"02134"`` is not ``"2134"`` and phone numbers keep their ``+``.
- Ordering (``gt gte lt lte between``) takes a number (or numeric text) or an ISO date /
  datetime; the data value is read the same way (naive datetimes are UTC). A value that cannot
  be read that way makes the rule false.
- ``contains`` / ``starts_with`` / ``ends_with`` / ``regex`` look at the value as text.
  ``regex`` is RE2 syntax (linear time, tenant-safe), searched anywhere in the text (anchor
  with ``^``/``$``), at most 500 characters, compiled once.
- A list value (a multi-select field) satisfies a positive op when any element does; the
  negative ops are the exact negation (``ne`` holds when no element equals).
- ``ci`` (case-insensitive) applies to the text ops only.

``validate`` raises ConditionError naming the rule's position (``all[1].any[0]``) and what is
wrong. ``evaluate`` and ``explain`` never raise: an invalid condition is logged once and
evaluates false (fail closed), and arbitrary data is read defensively.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from .build import compile_condition
from .nodes import ALWAYS, Group, Leaf
from .spec import (
    EQUALITY_OPS,
    GROUPS,
    LEAF_KEYS,
    MAX_DEPTH,
    MAX_FIELD_LENGTH,
    MAX_LEAVES,
    MAX_LIST_VALUES,
    MAX_REGEX_LENGTH,
    NO_VALUE_OPS,
    OPS,
    ORDER_OPS,
    STRING_OPS,
    TEXT_OPS,
    ConditionError,
)
from .values import _MISSING as _MISSING  # the missing marker ``resolve`` returns
from .values import compile_regex, resolve

__all__ = [
    "ALWAYS",
    "EQUALITY_OPS",
    "GROUPS",
    "LEAF_KEYS",
    "MAX_DEPTH",
    "MAX_FIELD_LENGTH",
    "MAX_LEAVES",
    "MAX_LIST_VALUES",
    "MAX_REGEX_LENGTH",
    "NO_VALUE_OPS",
    "OPS",
    "ORDER_OPS",
    "STRING_OPS",
    "TEXT_OPS",
    "ConditionError",
    "Group",
    "Leaf",
    "compile_condition",
    "compile_regex",
    "evaluate",
    "explain",
    "resolve",
    "validate",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Invalid:
    message: str


@lru_cache(maxsize=2048)
def _compiled_from_key(key: str):
    try:
        return compile_condition(json.loads(key))
    except ConditionError as exc:
        logger.warning("Invalid condition evaluates false: %s", exc)
        return _Invalid(str(exc))


def _compiled(condition):
    """Compile once per distinct condition (keyed by its canonical JSON)."""
    if condition is None or (isinstance(condition, Mapping) and not condition):
        return ALWAYS
    try:
        key = json.dumps(condition, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        # Not JSON (only possible from Python callers): compile without the cache.
        try:
            return compile_condition(condition)
        except (ConditionError, RecursionError) as exc:
            return _Invalid(str(exc))
    return _compiled_from_key(key)


def validate(condition) -> None:
    """Raise ConditionError with a clear message unless ``condition`` is valid."""
    try:
        compile_condition(condition)
    except RecursionError as exc:  # pragma: no cover - depth is bounded before this
        raise ConditionError("condition is nested too deeply.") from exc


def evaluate(condition, data: Mapping) -> bool:
    """Whether ``data`` satisfies ``condition``. Never raises; an invalid condition is false."""
    compiled = _compiled(condition)
    if isinstance(compiled, _Invalid):
        return False
    return compiled.holds(data if isinstance(data, Mapping) else {})


def explain(condition, data: Mapping) -> str:
    """A short human reason for the outcome, e.g. ``state not in [CA] (is TX)``.

    When the condition fails it names the rule(s) that failed; when it holds, the rule(s)
    that made it hold. Never raises.
    """
    compiled = _compiled(condition)
    if isinstance(compiled, _Invalid):
        return f"invalid condition: {compiled.message}"
    data = data if isinstance(data, Mapping) else {}
    text = compiled.describe(data, compiled.holds(data))
    return text if len(text) <= 300 else text[:299] + "…"
