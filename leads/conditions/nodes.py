"""Compiled conditions: ``Leaf`` (one rule) and ``Group`` (all / any / not), how each holds
on data, and the short human explanation of why it held or failed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .spec import NO_VALUE_OPS
from .values import _MISSING, _is_empty, resolve

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
