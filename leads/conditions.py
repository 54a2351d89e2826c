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

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import re2

logger = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_LEAVES = 200
MAX_LIST_VALUES = 1000
MAX_REGEX_LENGTH = 500
MAX_FIELD_LENGTH = 200

EQUALITY_OPS = ("eq", "ne", "in", "not_in")
STRING_OPS = ("contains", "not_contains", "starts_with", "ends_with", "regex")
NO_VALUE_OPS = ("empty", "not_empty", "exists")
ORDER_OPS = ("gt", "gte", "lt", "lte", "between")
OPS = EQUALITY_OPS + STRING_OPS + NO_VALUE_OPS + ORDER_OPS
TEXT_OPS = frozenset(EQUALITY_OPS + STRING_OPS)  # the ops "ci" applies to
GROUPS = ("all", "any", "not")
LEAF_KEYS = frozenset({"field", "op", "value", "ci"})

_MISSING = object()
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})


class ConditionError(ValueError):
    """A condition that cannot be saved: unknown op, wrong value type, bad regex, too big."""


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


_NEGATION = {"ne": "eq", "not_in": "in", "not_contains": "contains"}
# How a rule reads when it holds / when it does not: (positive, negative).
_PHRASES = {
    "eq": ("is", "is not"),
    "in": ("in", "not in"),
    "contains": ("contains", "does not contain"),
    "starts_with": ("starts with", "does not start with"),
    "ends_with": ("ends with", "does not end with"),
    "regex": ("matches", "does not match"),
    "gt": (">", "not >"),
    "gte": (">=", "not >="),
    "lt": ("<", "not <"),
    "lte": ("<=", "not <="),
    "between": ("between", "not between"),
}


def _show(value, limit: int = 60) -> str:
    """A short human rendering of a value: bare words, quoted when ambiguous."""
    if isinstance(value, (list, tuple)):
        items = [_show(v, 20) for v in value[:10]]
        more = ", …" if len(value) > 10 else ""
        return "[" + ", ".join(items) + more + "]"
    if isinstance(value, str) and re.fullmatch(r"[\w@.+\-:/]+", value):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = "…"
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: object
    ci: bool
    test: Callable[[object], bool] = field(repr=False, compare=False)

    def holds(self, data) -> bool:
        actual = resolve(data, self.field)
        if self.op == "exists":
            return actual is not _MISSING and actual is not None
        if self.op == "empty":
            return _is_empty(actual)
        if self.op == "not_empty":
            return not _is_empty(actual)
        if actual is _MISSING or actual is None:
            return self.op in _NEGATION
        result = self.test(actual)
        return not result if self.op in _NEGATION else result

    def describe(self, data, holds: bool) -> str:
        actual = resolve(data, self.field)
        if self.op in NO_VALUE_OPS:
            if self.op == "exists":
                return f"{self.field} {'exists' if holds else 'is missing'}"
            is_empty = (self.op == "empty") == holds
            return f"{self.field} is {'empty' if is_empty else 'not empty'}"
        base = _NEGATION.get(self.op, self.op)
        positive = holds != (self.op in _NEGATION)
        phrase = _PHRASES[base][0 if positive else 1]
        if self.op == "between":
            expected = f"{_show(self.value[0])} and {_show(self.value[1])}"
        elif self.op == "regex":
            expected = f"/{str(self.value)[:60]}/"
        else:
            expected = _show(self.value)
        case = " (any case)" if self.ci else ""
        if actual is _MISSING or actual is None:
            got = " (missing)"
        elif base == "eq" and positive:
            got = ""  # "state is CA" already says what it is
        else:
            got = f" (is {_show(actual, 40)})"
        return f"{self.field} {phrase} {expected}{case}{got}"


@dataclass(frozen=True)
class Group:
    kind: str  # all | any | not
    children: tuple

    def holds(self, data) -> bool:
        if self.kind == "all":
            return all(child.holds(data) for child in self.children)
        if self.kind == "any":
            return any(child.holds(data) for child in self.children)
        return not self.children[0].holds(data)

    def describe(self, data, holds: bool) -> str:
        if self.kind == "not":
            return self.children[0].describe(data, not holds)
        if not self.children:
            return "no conditions"
        # The rules that decide the outcome: the first failing rule of a failed "all", every
        # rule of a failed "any", the first holding rule of a holding "any", all of a held "all".
        if (self.kind == "all") != holds:
            first = next((c for c in self.children if c.holds(data) == holds), self.children[0])
            return first.describe(data, holds)
        parts = [child.describe(data, holds) for child in self.children[:5]]
        text = " and ".join(parts)
        return text + (" …" if len(self.children) > 5 else "")


ALWAYS = Group("all", ())  # the empty condition: always holds


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


# --- public interface ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Invalid:
    message: str


def compile_condition(condition):
    """A compiled condition with ``holds(data)`` and ``describe(data, holds)``.

    Raises ConditionError when the condition is invalid. ``None`` and ``{}`` compile to a
    condition that always holds.
    """
    if condition is None or (isinstance(condition, Mapping) and not condition):
        return ALWAYS
    return _build(condition, "", 0, _Budget())


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
