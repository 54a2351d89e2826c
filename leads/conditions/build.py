"""Building (and so validating) a compiled condition from its JSON form, within a budget of
depth, rules and groups; every error is a ConditionError naming the rule's position."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .nodes import _NEGATION, ALWAYS, Group, Leaf, _show
from .spec import (
    GROUPS,
    LEAF_KEYS,
    MAX_DEPTH,
    MAX_FIELD_LENGTH,
    MAX_LEAVES,
    MAX_LIST_VALUES,
    NO_VALUE_OPS,
    OPS,
    TEXT_OPS,
    ConditionError,
)
from .values import (
    _MISSING,
    _any_item,
    _fold,
    _moment,
    _number,
    _order_test,
    _regex_test,
    _text_test,
    _Values,
    compile_regex,
)

# --- building (validation) -----------------------------------------------------------------


@dataclass
class _Budget:
    leaves: int = 0
    groups: int = 0


def _where(path: str) -> str:
    return f"{path}: " if path else ""


def _build(node, path: str, depth: int, budget: _Budget):
    where = _where(path)
    if not isinstance(node, Mapping):
        raise ConditionError(f"{where}a rule must be an object, not {_kind(node)}.")
    keys = set(node)
    if keys & set(GROUPS):
        if len(keys) != 1:
            raise ConditionError(
                f"{where}a group has exactly one key ('all', 'any' or 'not'); "
                f"found {', '.join(sorted(map(str, keys)))}."
            )
        if depth >= MAX_DEPTH:
            raise ConditionError(f"{where}groups are nested deeper than {MAX_DEPTH} levels.")
        budget.groups += 1
        if budget.groups > MAX_LEAVES:
            raise ConditionError(f"a condition may hold at most {MAX_LEAVES} groups.")
        (kind,) = keys
        body = node[kind]
        if kind == "not":
            return Group("not", (_build(body, _join(path, "not"), depth + 1, budget),))
        if not isinstance(body, (list, tuple)):
            raise ConditionError(f"{where}'{kind}' needs a list of rules, not {_kind(body)}.")
        if kind == "any" and not body:
            raise ConditionError(f"{where}an 'any' group needs at least one rule.")
        children = tuple(
            _build(child, f"{_join(path, kind)}[{i}]", depth + 1, budget)
            for i, child in enumerate(body)
        )
        return Group(kind, children)
    if "field" in keys or "op" in keys:
        budget.leaves += 1
        if budget.leaves > MAX_LEAVES:
            raise ConditionError(f"a condition may hold at most {MAX_LEAVES} rules.")
        return _build_leaf(node, where)
    raise ConditionError(
        f"{where}expected a group ('all', 'any', 'not') or a rule with 'field' and 'op'."
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        str: "text",
        int: "a number",
        float: "a number",
        list: "a list",
        tuple: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _build_leaf(node: Mapping, where: str) -> Leaf:
    unknown = sorted(str(k) for k in set(node) - LEAF_KEYS)
    if unknown:
        raise ConditionError(f"{where}unknown key '{unknown[0]}' in a rule.")
    name = node.get("field")
    if not isinstance(name, str) or not name.strip():
        raise ConditionError(f"{where}'field' must be a non-empty name.")
    if len(name) > MAX_FIELD_LENGTH or any(not part for part in name.split(".")):
        raise ConditionError(f"{where}'field' {name[:40]!r} is not a valid field path.")
    op = node.get("op")
    if op not in OPS:
        raise ConditionError(
            f"{where}unknown op '{_show(op)}' for field '{name}' (use one of: {', '.join(OPS)})."
        )
    ci = node.get("ci", False)
    if not isinstance(ci, bool):
        raise ConditionError(f"{where}'ci' must be true or false.")
    if ci and op not in TEXT_OPS:
        raise ConditionError(f"{where}'ci' applies only to text ops, not '{op}'.")
    where = f"{where}'{op}' on '{name}' "
    if op in NO_VALUE_OPS:
        if node.get("value") is not None:
            raise ConditionError(f"{where}takes no value.")
        return Leaf(name, op, None, False, _never)
    if "value" not in node or node["value"] is None:
        raise ConditionError(f"{where}needs a value.")
    value = node["value"]
    base = _NEGATION.get(op, op)  # ne/not_in/not_contains test the positive op, negated
    value, test = _VALUE_BUILDERS[base](base, value, ci, where)
    return Leaf(name, op, value, ci, test)


def _never(actual) -> bool:
    return False


def _scalar(value) -> bool:
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    return isinstance(value, (str, int, bool))


def _build_eq(op, value, ci, where):
    if not _scalar(value):
        raise ConditionError(f"{where}needs text, a number or true/false, not {_kind(value)}.")
    return value, _Values.of([value], ci).matches


def _build_in(op, value, ci, where):
    if not isinstance(value, (list, tuple)):
        raise ConditionError(f'{where}needs a list of values, e.g. ["CA", "NY"].')
    if not value:
        raise ConditionError(f"{where}needs at least one value.")
    if len(value) > MAX_LIST_VALUES:
        raise ConditionError(f"{where}accepts at most {MAX_LIST_VALUES} values.")
    bad = next((v for v in value if not _scalar(v)), _MISSING)
    if bad is not _MISSING:
        raise ConditionError(f"{where}needs text or numbers in its list, not {_kind(bad)}.")
    return list(value), _Values.of(list(value), ci).matches


def _build_text(op, value, ci, where):
    if isinstance(value, bool) or not _scalar(value):
        raise ConditionError(f"{where}needs text, not {_kind(value)}.")
    needle = str(value)
    if not needle:
        raise ConditionError(f"{where}needs non-empty text.")
    folded = _fold(needle, ci)
    if op == "contains":
        # On a list, "contains" means one of its elements equals the value.
        element = _Values.of([value], ci).matches
        text = _text_test(lambda t: folded in t, ci)
        return value, lambda actual: element(actual) if isinstance(actual, list) else text(actual)
    if op == "starts_with":
        return value, _text_test(lambda t: t.startswith(folded), ci)
    return value, _text_test(lambda t: t.endswith(folded), ci)


def _build_regex(op, value, ci, where):
    if not isinstance(value, str) or not value:
        raise ConditionError(f"{where}needs a regular expression as text.")
    try:
        pattern = compile_regex(value, ci)
    except ConditionError as exc:
        raise ConditionError(f"{where}{exc}.") from exc
    return value, _any_item(lambda actual: _regex_test(pattern, actual))


def _bound(value, where) -> tuple[str, Decimal | dt.datetime]:
    """(mode, bound) for an ordering value: a number or an ISO date."""
    if not isinstance(value, bool):
        number = _number(value)
        if number is not None:
            return "number", number
        moment = _moment(value) if isinstance(value, str) else None
        if moment is not None:
            return "date", moment
    raise ConditionError(
        f"{where}needs a number or an ISO date (YYYY-MM-DD), not {_show(value, 30)}."
    )


_READERS = {"number": _number, "date": _moment}
_ORDER = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _build_order(op, value, ci, where):
    mode, bound = _bound(value, where)
    compare = _ORDER[op]
    return value, _order_test(_READERS[mode], lambda actual: compare(actual, bound))


def _build_between(op, value, ci, where):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConditionError(f"{where}needs [low, high], e.g. [18, 65].")
    (mode_low, low), (mode_high, high) = _bound(value[0], where), _bound(value[1], where)
    if mode_low != mode_high:
        raise ConditionError(f"{where}needs low and high of one kind: both numbers or both dates.")
    if low > high:
        raise ConditionError(f"{where}needs low <= high.")
    return list(value), _order_test(_READERS[mode_low], lambda actual: low <= actual <= high)


_VALUE_BUILDERS = {
    "eq": _build_eq,
    "in": _build_in,
    "regex": _build_regex,
    "between": _build_between,
    **dict.fromkeys(("contains", "starts_with", "ends_with"), _build_text),
    **dict.fromkeys(("gt", "gte", "lt", "lte"), _build_order),
}


def compile_condition(condition):
    """A compiled condition with ``holds(data)`` and ``describe(data, holds)``.

    Raises ConditionError when the condition is invalid. ``None`` and ``{}`` compile to a
    condition that always holds.
    """
    if condition is None or (isinstance(condition, Mapping) and not condition):
        return ALWAYS
    return _build(condition, "", 0, _Budget())
