"""Property tests: evaluation and explanation never raise, whatever the data and whatever the
condition (valid or not), and validation either accepts or raises ConditionError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.conditions import OPS, ConditionError, evaluate, explain, validate

FIELDS = ["state", "age", "email", "contact.email", "tags", "tags.0", "a.b.c", "missing", ""]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["TX", "42", "1.0", "2026-03-08", "2026-03-08T02:30:00Z", "true", "", " "]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "c", "email", "0"]), inner, max_size=4),
    ),
    max_leaves=12,
)
lead_data = st.dictionaries(
    st.one_of(st.sampled_from(["state", "age", "email", "contact", "tags", "a"]), st.text()),
    json_values,
    max_size=6,
)

op_values = st.one_of(
    json_values,
    st.lists(scalars, max_size=3),
    st.sampled_from(["(", r"^\d+$", "[a-", "(?i)x", r"\1", "a" * 600]),
)


@st.composite
def leaves(draw):
    leaf = {}
    if draw(st.booleans()):
        leaf["field"] = draw(st.one_of(st.sampled_from(FIELDS), json_values))
    if draw(st.integers(0, 5)) > 0:
        leaf["op"] = draw(st.one_of(st.sampled_from(OPS), st.text(max_size=8), json_values))
    if draw(st.booleans()):
        leaf["value"] = draw(op_values)
    if draw(st.integers(0, 4)) == 0:
        leaf["ci"] = draw(st.one_of(st.booleans(), json_values))
    if draw(st.integers(0, 8)) == 0:
        leaf[draw(st.text(max_size=5))] = draw(json_values)
    return leaf


conditions = st.recursive(
    st.one_of(leaves(), json_values),
    lambda inner: st.one_of(
        st.builds(lambda rules: {"all": rules}, st.lists(inner, max_size=4)),
        st.builds(lambda rules: {"any": rules}, st.lists(inner, max_size=4)),
        st.builds(lambda rule: {"not": rule}, inner),
        st.dictionaries(st.sampled_from(["all", "any", "not", "field", "op"]), inner, max_size=3),
    ),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=conditions, data=lead_data)
def test_evaluate_and_explain_never_raise(condition, data):
    result = evaluate(condition, data)
    assert isinstance(result, bool)
    reason = explain(condition, data)
    assert isinstance(reason, str) and len(reason) <= 300
    try:
        validate(condition)
    except ConditionError:
        assert result is False  # an invalid condition fails closed


@settings(max_examples=100, deadline=None)
@given(data=lead_data, field=st.sampled_from(FIELDS[:-1]), op=st.sampled_from(OPS))
def test_negative_ops_are_the_exact_negation_of_their_positive(data, field, op):
    pairs = {"eq": "ne", "in": "not_in", "contains": "not_contains", "empty": "not_empty"}
    if op not in pairs:
        return
    value = {"eq": "TX", "in": ["TX", "42"], "contains": "a", "empty": None}[op]
    positive = {"field": field, "op": op, "value": value}
    negative = {"field": field, "op": pairs[op], "value": value}
    assert evaluate(positive, data) is not evaluate(negative, data)
    assert evaluate({"not": positive}, data) is evaluate(negative, data)


@settings(max_examples=60, deadline=None)
@given(data=st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_arbitrary_data_against_every_valid_op(data):
    samples = {
        "eq": "x",
        "ne": 1,
        "in": ["x", 2, True],
        "not_in": ["x"],
        "contains": "a",
        "not_contains": "a",
        "starts_with": "a",
        "ends_with": "a",
        "regex": "^a.*z$",
        "gt": 1,
        "gte": "2026-01-01",
        "lt": "3.5",
        "lte": 0,
        "between": [1, 2],
    }
    names = [n for n in data if n.strip() and all(n.split("."))] + ["missing", "a.b"]
    for name in names:
        for op in OPS:
            condition = {"field": name, "op": op}
            if op in samples:
                condition["value"] = samples[op]
            validate(condition)
            assert isinstance(evaluate(condition, data), bool)
            assert isinstance(explain(condition, data), str)
