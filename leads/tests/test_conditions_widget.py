"""The console rule-builder widget: a JSON textarea that works without JavaScript, and the
builder's pure JSON <-> rows conversion (run under Node when it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django import forms

from leads.widgets import ConditionWidget

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "leads" / "conditions.js"


class FilterForm(forms.Form):
    filters = forms.JSONField(required=False, widget=ConditionWidget(fields=["state", "email"]))


def test_widget_renders_a_plain_json_textarea_marked_for_the_builder():
    condition = {"all": [{"field": "state", "op": "in", "value": ["CA"]}]}
    html = str(FilterForm(initial={"filters": condition})["filters"])
    assert html.startswith("<textarea")
    assert 'data-condition-builder="1"' in html
    assert 'data-fields="[&quot;state&quot;, &quot;email&quot;]"' in html
    assert "&quot;field&quot;: &quot;state&quot;" in html  # pretty JSON inside


def test_widget_ships_its_script_and_stylesheet():
    media = str(FilterForm().media)
    assert "leads/conditions.js" in media
    assert "leads/conditions.css" in media
    assert SCRIPT.exists()


def test_no_condition_renders_empty_and_posts_back_as_none():
    html = str(FilterForm(initial={"filters": None})["filters"])
    assert "null" not in html
    form = FilterForm(data={"filters": ""})
    assert form.is_valid()
    assert form.cleaned_data["filters"] is None


def test_posted_json_round_trips_through_the_form():
    condition = {"any": [{"field": "email", "op": "ends_with", "value": ".edu", "ci": True}]}
    form = FilterForm(data={"filters": json.dumps(condition)})
    assert form.is_valid()
    assert form.cleaned_data["filters"] == condition


def test_invalid_json_is_shown_back_as_typed():
    form = FilterForm(data={"filters": '{"all": ['})
    assert not form.is_valid()
    assert "{&quot;all&quot;: [" in str(form["filters"])


NODE_CHECK = r"""
const b = require(process.argv[1]);
const flat = {"any": [{"field": "state", "op": "in", "value": ["CA", "NY"]},
                      {"field": "age", "op": "between", "value": [18, 65]},
                      {"field": "email", "op": "ends_with", "value": ".edu", "ci": true},
                      {"field": "phone", "op": "not_empty"}]};
const out = {
  roundTrip: b.toCondition(b.toModel(flat)),
  leaf: b.toCondition(b.toModel({"field": "state", "op": "eq", "value": "TX"})),
  nested: b.toModel({"all": [{"any": [{"field": "a", "op": "exists"}]}]}),
  negated: b.toModel({"not": {"field": "a", "op": "exists"}}),
  empty: b.toCondition(b.toModel(null)),
  list: b.textToValue("in", " CA, ,NY "),
  between: b.textToValue("between", "18, 65"),
  date: b.textToValue("gte", "2026-01-01"),
  number: b.textToValue("gt", "2.5"),
  none: b.textToValue("exists", "ignored") === undefined,
  ciDroppedForNumbers: b.toCondition({mode: "all", rows: [{field: "age", op: "gt", value: 1, ci: true}]}),
  ops: b.OPS,
};
process.stdout.write(JSON.stringify(out));
"""


# The rule builder is browser JavaScript; this runs it under Node.js, which every project machine
# has. Without Node the test cannot run at all, so it is skipped rather than faked.
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_builder_converts_between_rows_and_condition_json():
    from leads.conditions import OPS

    run = subprocess.run(
        ["node", "-e", NODE_CHECK, str(SCRIPT)], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["roundTrip"] == {
        "any": [
            {"field": "state", "op": "in", "value": ["CA", "NY"]},
            {"field": "age", "op": "between", "value": [18, 65]},
            {"field": "email", "op": "ends_with", "value": ".edu", "ci": True},
            {"field": "phone", "op": "not_empty"},
        ]
    }
    assert out["leaf"] == {"all": [{"field": "state", "op": "eq", "value": "TX"}]}
    assert out["nested"] is None  # nested groups are edited as JSON
    assert out["negated"] is None
    assert out["empty"] is None
    assert out["list"] == ["CA", "NY"]
    assert out["between"] == [18, 65]
    assert out["date"] == "2026-01-01"
    assert out["number"] == 2.5
    assert out["none"] is True
    assert out["ciDroppedForNumbers"] == {"all": [{"field": "age", "op": "gt", "value": 1}]}
    assert out["ops"] == list(OPS)  # the builder offers exactly the server's ops
