"""Conditions engine (endpoint filters on lead fields, inbound conditions on parameters).

Interface (implementation owned by the routing work):
    validate(condition) -> None           raises ConditionError with a clear message
    evaluate(condition, data) -> bool     never raises
    explain(condition, data) -> str       human reason why it does not hold
"""

from __future__ import annotations

from collections.abc import Mapping


class ConditionError(ValueError):
    """A condition that cannot be saved: unknown op, wrong value type, bad regex."""


def validate(condition) -> None:
    if condition in (None, {}):
        return
    if not isinstance(condition, Mapping):
        raise ConditionError("A condition must be an object.")


def evaluate(condition, data: Mapping) -> bool:
    return True


def explain(condition, data: Mapping) -> str:
    return "conditions not met"
