"""The conditions engine: every op, groups, missing fields, coercion, ci, dotted paths,
validation messages and explanations. Pure functions: no database."""

from __future__ import annotations

import pytest

from leads.conditions import (
    MAX_DEPTH,
    MAX_LEAVES,
    ConditionError,
    compile_regex,
    evaluate,
    explain,
    validate,
)

LEAD = {
    "first_name": "Ada",
    "email": "Ada@Example.com",
    "state": "TX",
    "zip_code": "02134",
    "age": 42,
    "income": "55000.50",
    "phone": "+14155550100",
    "opt_in": True,
    "born": "1990-04-01",
    "tags": ["vip", "Solar"],
    "blank": "  ",
    "nothing": None,
    "contact": {"email": "ada@work.test", "phones": [{"type": "cell", "number": "555"}]},
    "dotted.key": "literal",
}


def rule(field, op, value=None, **extra):
    node = {"field": field, "op": op, **extra}
    if value is not None:
        node["value"] = value
    return node


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (rule("state", "eq", "TX"), True),
        (rule("state", "eq", "tx"), False),
        (rule("state", "eq", "tx", ci=True), True),
        (rule("state", "ne", "CA"), True),
        (rule("state", "ne", "TX"), False),
        (rule("state", "in", ["CA", "TX"]), True),
        (rule("state", "in", ["CA", "NY"]), False),
        (rule("state", "in", ["ca", "tx"], ci=True), True),
        (rule("state", "not_in", ["CA", "NY"]), True),
        (rule("state", "not_in", ["TX"]), False),
        (rule("email", "contains", "Example"), True),
        (rule("email", "contains", "EXAMPLE"), False),
        (rule("email", "contains", "EXAMPLE", ci=True), True),
        (rule("email", "not_contains", "gmail"), True),
        (rule("email", "not_contains", "Example"), False),
        (rule("email", "starts_with", "Ada@"), True),
        (rule("email", "starts_with", "ada@"), False),
        (rule("email", "starts_with", "ada@", ci=True), True),
        (rule("email", "ends_with", ".com"), True),
        (rule("email", "ends_with", ".org"), False),
        (rule("email", "regex", r"@example\.com$"), False),
        (rule("email", "regex", r"@example\.com$", ci=True), True),
        (rule("email", "regex", r"Example"), True),  # searched anywhere, not anchored
        (rule("zip_code", "regex", r"^\d{5}$"), True),
        (rule("first_name", "empty"), False),
        (rule("blank", "empty"), True),
        (rule("first_name", "not_empty"), True),
        (rule("blank", "not_empty"), False),
        (rule("first_name", "exists"), True),
        (rule("blank", "exists"), True),  # present, even if blank
        (rule("nothing", "exists"), False),
        (rule("age", "gt", 41), True),
        (rule("age", "gt", 42), False),
        (rule("age", "gte", 42), True),
        (rule("age", "lt", 43), True),
        (rule("age", "lt", 42), False),
        (rule("age", "lte", 42), True),
        (rule("age", "between", [18, 65]), True),
        (rule("age", "between", [43, 65]), False),
        (rule("age", "between", [42, 42]), True),  # inclusive at both ends
        (rule("income", "gt", 50000), True),  # numeric text compares as a number
        (rule("income", "between", ["50000", "60000"]), True),
        (rule("born", "lt", "2000-01-01"), True),
        (rule("born", "gt", "2000-01-01"), False),
        (rule("born", "between", ["1990-01-01", "1990-12-31"]), True),
        (rule("born", "gte", "1990-04-01T00:00:00Z"), True),
    ],
)
def test_each_op_on_lead_fields(condition, expected):
    assert evaluate(condition, LEAD) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (rule("missing", "empty"), True),
        (rule("missing", "not_empty"), False),
        (rule("missing", "exists"), False),
        (rule("missing", "ne", "x"), True),
        (rule("missing", "not_in", ["x"]), True),
        (rule("missing", "not_contains", "x"), True),
        (rule("missing", "eq", "x"), False),
        (rule("missing", "in", ["x"]), False),
        (rule("missing", "contains", "x"), False),
        (rule("missing", "starts_with", "x"), False),
        (rule("missing", "ends_with", "x"), False),
        (rule("missing", "regex", "x*"), False),
        (rule("missing", "gt", 0), False),
        (rule("missing", "lt", 0), False),
        (rule("missing", "between", [0, 1]), False),
        (rule("nothing", "empty"), True),  # null is missing
        (rule("nothing", "ne", "x"), True),
        (rule("nothing", "eq", "x"), False),
    ],
)
def test_missing_field_behaves_as_empty(condition, expected):
    assert evaluate(condition, LEAD) is expected


@pytest.mark.parametrize(
    ("data", "condition", "expected"),
    [
        ({"n": "1"}, rule("n", "eq", 1), True),
        ({"n": 1}, rule("n", "eq", "1"), True),
        ({"n": 1.0}, rule("n", "eq", 1), True),
        ({"n": "1.0"}, rule("n", "eq", 1), True),
        ({"n": "1.0"}, rule("n", "eq", "1"), False),  # two strings compare as text
        ({"zip": "02134"}, rule("zip", "eq", "2134"), False),
        ({"n": "10"}, rule("n", "gt", "9"), True),  # ordering is numeric, not lexical
        ({"n": 10}, rule("n", "in", ["9", "10"]), True),
        ({"n": "10"}, rule("n", "in", [9, 10]), True),
        ({"n": "abc"}, rule("n", "gt", 1), False),
        ({"flag": True}, rule("flag", "eq", "true"), True),
        ({"flag": "yes"}, rule("flag", "eq", True), True),
        ({"flag": 1}, rule("flag", "eq", True), True),
        ({"flag": False}, rule("flag", "eq", True), False),
        ({"flag": "maybe"}, rule("flag", "eq", True), False),
        ({"n": 5}, rule("n", "contains", "5"), True),
        ({"when": "2026-03-08T07:30:00+00:00"}, rule("when", "gt", "2026-03-08"), True),
        ({"when": "2026-03-08T01:30:00-05:00"}, rule("when", "lt", "2026-03-08T07:00:00Z"), True),
    ],
)
def test_numbers_booleans_and_dates_are_coerced(data, condition, expected):
    assert evaluate(condition, data) is expected


def test_case_insensitive_applies_to_eq_ne_in_contains_and_regex():
    data = {"name": "ÉCOLE Straße"}
    assert evaluate(rule("name", "eq", "école strasse", ci=True), data)  # casefold
    assert not evaluate(rule("name", "ne", "école strasse", ci=True), data)
    assert evaluate(rule("name", "not_in", ["école strasse"]), data)
    assert not evaluate(rule("name", "not_in", ["école strasse"], ci=True), data)
    assert evaluate(rule("name", "regex", "^école", ci=True), data)


def test_dotted_paths_reach_nested_values_and_list_items():
    assert evaluate(rule("contact.email", "ends_with", "@work.test"), LEAD)
    assert evaluate(rule("contact.phones.0.type", "eq", "cell"), LEAD)
    assert not evaluate(rule("contact.phones.5.type", "eq", "cell"), LEAD)
    assert evaluate(rule("contact.fax", "empty"), LEAD)
    assert not evaluate(rule("state.code", "exists"), LEAD)  # cannot descend into text
    assert evaluate(rule("dotted.key", "eq", "literal"), LEAD)  # a literal dotted key wins


def test_list_values_match_when_any_element_matches():
    assert evaluate(rule("tags", "eq", "vip"), LEAD)
    assert evaluate(rule("tags", "contains", "vip"), LEAD)
    assert not evaluate(rule("tags", "contains", "vi"), LEAD)  # elements, not substrings
    assert evaluate(rule("tags", "in", ["solar"], ci=True), LEAD)
    assert evaluate(rule("tags", "starts_with", "Sol"), LEAD)
    assert not evaluate(rule("tags", "ne", "vip"), LEAD)
    assert evaluate(rule("tags", "not_contains", "wind"), LEAD)
    assert evaluate({"field": "empty_list", "op": "empty"}, {"empty_list": []})


def test_groups_combine_rules():
    tx = rule("state", "eq", "TX")
    ca = rule("state", "eq", "CA")
    assert evaluate({"all": [tx, rule("age", "gt", 18)]}, LEAD)
    assert not evaluate({"all": [tx, ca]}, LEAD)
    assert evaluate({"any": [ca, tx]}, LEAD)
    assert not evaluate({"any": [ca, rule("state", "eq", "NY")]}, LEAD)
    assert evaluate({"not": ca}, LEAD)
    assert not evaluate({"not": tx}, LEAD)
    assert evaluate({"all": []}, LEAD)
    assert evaluate({"all": [{"any": [ca, {"not": {"all": [ca]}}]}, tx]}, LEAD)


def test_no_condition_always_holds():
    assert evaluate(None, {}) is True
    assert evaluate({}, LEAD) is True
    validate(None)
    validate({})


def test_invalid_conditions_evaluate_false_instead_of_raising():
    assert evaluate(rule("state", "like", "TX"), LEAD) is False
    assert evaluate({"not": rule("state", "like", "TX")}, LEAD) is False  # fails closed
    assert evaluate("state = TX", LEAD) is False
    assert evaluate(rule("state", "eq", "TX"), "not a mapping") is False


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("state = TX", "a rule must be an object, not text"),
        ([], "a rule must be an object, not a list"),
        ({"field": "state", "op": "like", "value": "x"}, "unknown op 'like' for field 'state'"),
        ({"field": "state", "value": "x"}, "unknown op 'null'"),
        ({"op": "eq", "value": "x"}, "'field' must be a non-empty name"),
        ({"field": "a..b", "op": "exists"}, "is not a valid field path"),
        ({"field": "state", "op": "eq", "value": "x", "negate": True}, "unknown key 'negate'"),
        ({"field": "state", "op": "eq"}, "'eq' on 'state' needs a value"),
        ({"field": "state", "op": "eq", "value": ["CA"]}, "needs text, a number or true/false"),
        ({"field": "state", "op": "in", "value": "CA"}, "'in' on 'state' needs a list of values"),
        ({"field": "state", "op": "not_in", "value": []}, "needs at least one value"),
        ({"field": "s", "op": "in", "value": [{"a": 1}]}, "needs text or numbers in its list"),
        ({"field": "s", "op": "in", "value": list(range(1001))}, "at most 1000 values"),
        ({"field": "age", "op": "between", "value": 18}, "needs [low, high]"),
        ({"field": "age", "op": "between", "value": [18]}, "needs [low, high]"),
        ({"field": "age", "op": "between", "value": [65, 18]}, "needs low <= high"),
        ({"field": "age", "op": "between", "value": [1, "2026-01-01"]}, "both numbers or both"),
        ({"field": "age", "op": "gt", "value": "old"}, "needs a number or an ISO date"),
        ({"field": "age", "op": "gt", "value": True}, "needs a number or an ISO date"),
        ({"field": "age", "op": "lte", "value": [1]}, "needs a number or an ISO date"),
        ({"field": "email", "op": "regex", "value": "(unclosed"}, "not a valid regular expr"),
        ({"field": "email", "op": "regex", "value": r"(a)\1"}, "not a valid regular expr"),
        ({"field": "email", "op": "regex", "value": "a" * 501}, "longer than 500 characters"),
        ({"field": "email", "op": "contains", "value": ""}, "needs non-empty text"),
        ({"field": "email", "op": "contains", "value": True}, "needs text, not a boolean"),
        ({"field": "email", "op": "empty", "value": "x"}, "'empty' on 'email' takes no value"),
        ({"field": "age", "op": "gt", "value": 1, "ci": True}, "'ci' applies only to text ops"),
        ({"field": "email", "op": "eq", "value": "x", "ci": "yes"}, "'ci' must be true or false"),
        ({"all": "state"}, "'all' needs a list of rules, not text"),
        ({"any": []}, "an 'any' group needs at least one rule"),
        ({"all": [], "any": []}, "a group has exactly one key"),
        ({"all": [], "field": "x"}, "a group has exactly one key"),
        ({"every": []}, "expected a group ('all', 'any', 'not') or a rule"),
        ({"all": [{"any": [{"op": "eq"}]}]}, "all[0].any[0]: 'field' must be"),
        ({"not": {"all": [1]}}, "not.all[0]: a rule must be an object"),
    ],
)
def test_validate_rejects_bad_shapes_with_a_clear_message(condition, message):
    with pytest.raises(ConditionError) as error:
        validate(condition)
    assert message in str(error.value)


def test_validate_limits_depth_and_size():
    deep = rule("a", "exists")
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    validate(deep)
    with pytest.raises(ConditionError, match="nested deeper than 10 levels"):
        validate({"not": deep})
    validate({"all": [rule("a", "exists")] * MAX_LEAVES})
    with pytest.raises(ConditionError, match="at most 200 rules"):
        validate({"all": [rule("a", "exists")] * (MAX_LEAVES + 1)})
    with pytest.raises(ConditionError, match="at most 200 groups"):
        validate({"all": [{"all": []}] * MAX_LEAVES})


def test_validate_accepts_every_op_in_its_documented_form():
    validate(
        {
            "all": [
                rule("a", "eq", "x"),
                rule("a", "eq", 1.5),
                rule("a", "eq", False),
                rule("a", "ne", "x", ci=True),
                rule("a", "in", ["x", 1]),
                rule("a", "not_in", ["x"], ci=True),
                rule("a", "contains", "x"),
                rule("a", "not_contains", 5),
                rule("a", "starts_with", "x"),
                rule("a", "ends_with", "x"),
                rule("a", "regex", r"^\d+$", ci=True),
                rule("a", "empty"),
                {"field": "a", "op": "not_empty", "value": None},
                rule("a", "exists"),
                rule("a", "gt", 1),
                rule("a", "gte", "2.5"),
                rule("a", "lt", "2026-01-01"),
                rule("a", "lte", "2026-01-01T10:00:00Z"),
                rule("a", "between", ["2026-01-01", "2026-12-31"]),
                {"any": [{"not": rule("b", "exists")}]},
            ]
        }
    )


def test_regexes_are_compiled_once():
    compile_regex.cache_clear()
    condition = rule("email", "regex", "^unique-pattern-[0-9]+$")
    for _ in range(3):
        evaluate(condition, {"email": "unique-pattern-1"})
        evaluate(condition, {"email": "x"})
    assert compile_regex.cache_info().misses == 1


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        (rule("state", "in", ["CA"]), "state not in [CA] (is TX)"),
        (rule("state", "not_in", ["TX", "OK"]), "state in [TX, OK] (is TX)"),
        (rule("state", "eq", "CA"), "state is not CA (is TX)"),
        (rule("state", "ne", "TX"), "state is TX"),
        (rule("age", "gt", 50), "age not > 50 (is 42)"),
        (rule("age", "between", [50, 60]), "age not between 50 and 60 (is 42)"),
        (
            rule("email", "contains", "gmail", ci=True),
            "email does not contain gmail (any case) (is Ada@Example.com)",
        ),
        (rule("email", "regex", "^x"), "email does not match /^x/ (is Ada@Example.com)"),
        (rule("fax", "not_empty"), "fax is empty"),
        (rule("fax", "exists"), "fax is missing"),
        (rule("first_name", "empty"), "first_name is not empty"),
        (rule("fax", "eq", "1"), "fax is not 1 (missing)"),
        ({"not": rule("state", "eq", "TX")}, "state is TX"),
        (
            {"all": [rule("age", "gt", 18), rule("state", "in", ["CA"])]},
            "state not in [CA] (is TX)",
        ),
        (
            {"any": [rule("state", "eq", "CA"), rule("fax", "not_empty")]},
            "state is not CA (is TX) and fax is empty",
        ),
    ],
)
def test_explain_names_the_rules_that_decided(condition, reason):
    assert not evaluate(condition, LEAD)
    assert explain(condition, LEAD) == reason


def test_explain_describes_a_holding_condition_and_an_invalid_one():
    assert explain(rule("state", "in", ["TX"]), LEAD) == "state in [TX] (is TX)"
    assert explain({"any": [rule("age", "gt", 1), rule("x", "exists")]}, LEAD) == "age > 1 (is 42)"
    assert explain(None, LEAD) == "no conditions"
    assert explain({"field": "a", "op": "nope"}, LEAD).startswith("invalid condition: unknown op")


def test_explain_quotes_ambiguous_values_and_stays_short():
    reason = explain(rule("first_name", "eq", "Ada Lovelace"), LEAD)
    assert reason == 'first_name is not "Ada Lovelace" (is Ada)'
    long_condition = {"all": [rule(f"f{i}", "exists") for i in range(100)]}
    assert len(explain({"not": long_condition}, {f"f{i}": 1 for i in range(100)})) <= 300
