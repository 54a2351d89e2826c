"""The vocabulary of the condition language: ops, groups, size limits and the error raised
for a condition that cannot be saved. Shared by every other module of the package."""

from __future__ import annotations

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


class ConditionError(ValueError):
    """A condition that cannot be saved: unknown op, wrong value type, bad regex, too big."""
