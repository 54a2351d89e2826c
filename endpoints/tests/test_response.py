"""Reading answers without the network: formats, operators, captures, reasons, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from endpoints import response
from endpoints.tests.test_client import BOMB


def endpoint(fmt="json", success=None, capture=None, reject_reason_path=""):
    return SimpleNamespace(
        response_format=fmt,
        success=success,
        capture=capture or [],
        reject_reason_path=reject_reason_path,
    )


JSON_BODY = b'{"status": "ok", "code": 1, "flag": true, "empty": "", "tags": ["a", "b"], "msg": "Lead accepted #9"}'
XML_BODY = (
    b"<r><status>ok</status><code>1</code><flag>true</flag><empty/><msg>Lead accepted #9</msg></r>"
)
TEXT_BODY = b"status=ok code=1 flag=true msg=Lead accepted #9"

PATHS = {
    "json": {
        "status": "$.status",
        "code": "$.code",
        "flag": "$.flag",
        "empty": "$.empty",
        "missing": "$.nope",
        "msg": "$.msg",
    },
    "xml": {
        "status": "/r/status",
        "code": "/r/code",
        "flag": "/r/flag",
        "empty": "/r/empty",
        "missing": "/r/nope",
        "msg": "/r/msg",
    },
    "text": {
        "status": r"status=(\w+)",
        "code": r"code=(\d+)",
        "flag": r"flag=(\w+)",
        "empty": r"empty=(\w*)",
        "missing": r"nope=(\w+)",
        "msg": r"msg=(.*)$",
    },
}
BODIES = {"json": JSON_BODY, "xml": XML_BODY, "text": TEXT_BODY}

CASES = [
    ("status", "eq", "ok", True),
    ("status", "eq", "OK", False),
    ("code", "eq", 1, True),
    ("code", "eq", "1", True),
    ("status", "ne", "error", True),
    ("status", "ne", "ok", False),
    ("missing", "ne", "ok", True),
    ("msg", "contains", "accepted", True),
    ("msg", "contains", "rejected", False),
    ("msg", "regex", r"#\d+$", True),
    ("msg", "regex", r"^rejected", False),
    ("flag", "truthy", None, True),
    ("status", "truthy", None, True),
    ("empty", "truthy", None, False),
    ("missing", "truthy", None, False),
    ("status", "exists", None, True),
    ("missing", "exists", None, False),
]


@pytest.mark.parametrize("fmt", ["json", "xml", "text"])
@pytest.mark.parametrize(("key", "op", "value", "accepted"), CASES)
def test_each_operator_in_each_format(fmt, key, op, value, accepted):
    rule = {"path": PATHS[fmt][key], "op": op, "value": value}

    verdict = response.read(endpoint(fmt, success=rule), 200, {}, BODIES[fmt])

    assert verdict.outcome == ("accepted" if accepted else "rejected"), verdict.result


def test_json_contains_checks_list_membership():
    rule = {"path": "$.tags", "op": "contains", "value": "b"}
    assert response.read(endpoint(success=rule), 200, {}, JSON_BODY).outcome == "accepted"


def test_no_rule_means_any_2xx_is_accepted_whatever_the_body():
    verdict = response.read(endpoint(), 201, {}, b"not json at all")
    assert (verdict.outcome, verdict.result) == ("accepted", "HTTP 201")


def test_the_success_token_is_the_value_found():
    rule = {"path": "$.status", "op": "eq", "value": "ok"}
    assert response.read(endpoint(success=rule), 200, {}, JSON_BODY).result == "ok"


def test_a_failed_rule_explains_itself_without_a_reject_path():
    rule = {"path": "$.status", "op": "eq", "value": "sold"}
    verdict = response.read(endpoint(success=rule), 200, {}, JSON_BODY)
    assert verdict.result == "success rule not met: $.status eq 'sold' (got 'ok')"


def test_captures_are_read_on_rejection_too():
    verdict = response.read(
        endpoint(
            success={"path": "$.status", "op": "eq", "value": "sold"},
            capture=[
                {"path": "$.code", "lead_field": "code"},
                {"path": "$.nope", "lead_field": "x"},
            ],
            reject_reason_path="$.msg",
        ),
        200,
        {},
        JSON_BODY,
    )
    assert (verdict.outcome, verdict.result, verdict.captured) == (
        "rejected",
        "Lead accepted #9",
        {"code": 1},
    )


def test_a_4xx_without_a_readable_reason_quotes_the_status_and_body():
    verdict = response.read(endpoint(reject_reason_path="$.error"), 400, {}, b"<h1>Bad</h1>")
    assert verdict.result == "HTTP 400 Bad Request: <h1>Bad</h1>"


@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (502, True), (408, True), (429, True), (404, False), (409, False)],
)
def test_which_statuses_are_worth_retrying(status, transient):
    verdict = response.read(endpoint(), status, {}, b"")
    assert verdict.transient is transient
    assert verdict.outcome == ("error" if transient else "rejected")


def test_a_redirect_is_a_rejection_naming_the_location():
    verdict = response.read(endpoint(), 301, {"Location": "https://new.example/x"}, b"")
    assert verdict.outcome == "rejected"
    assert "https://new.example/x" in verdict.result


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=90)
    verdict = response.read(
        endpoint(), 503, {"retry-after": format_datetime(when, usegmt=True)}, b""
    )
    assert 80 <= verdict.retry_after <= 90


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0.0), ("7", 7.0), ("999999", 86400.0), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_values(value, expected):
    assert response.parse_retry_after(value) == expected


def test_retry_after_in_the_past_is_zero():
    past = datetime(2001, 1, 1, tzinfo=UTC)
    assert response.parse_retry_after(format_datetime(past, usegmt=True)) == 0.0


def test_a_small_dtd_is_refused_even_without_expansion():
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r><ok>&e;</ok></r>'
    verdict = response.read(
        endpoint("xml", success={"path": "/r/ok", "op": "exists"}), 200, {}, body
    )
    assert (verdict.outcome, verdict.transient) == ("error", False)
    assert "DTD" in verdict.result


def test_an_entity_bomb_is_refused_not_expanded():
    verdict = response.read(
        endpoint("xml", success={"path": "/result", "op": "exists"}), 200, {}, BOMB
    )
    assert (verdict.outcome, verdict.transient) == ("error", False)
    assert "lollol" not in str(verdict)  # nothing was expanded


def test_external_entities_are_never_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret-content")
    body = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'
    verdict = response.read(
        endpoint("xml", capture=[{"path": "/r", "lead_field": "r"}]), 200, {}, body.encode()
    )
    assert "top-secret-content" not in str(verdict)
    assert verdict.outcome == "error"


def test_a_truncated_json_body_is_an_error_and_text_rules_read_the_prefix():
    rule = {"path": "$.ok", "op": "exists"}
    cut = response.read(endpoint(success=rule), 200, {}, b'{"ok": 1', complete=False, limit=8)
    assert "too large" in cut.result
    text = response.read(
        endpoint("text", success={"path": "^OK", "op": "exists"}),
        200,
        {},
        b"OK and more",
        complete=False,
        limit=11,
    )
    assert text.outcome == "accepted"


@pytest.mark.parametrize(("path", "fmt"), [("$..[", "json"), ("//*[", "xml"), ("(", "text")])
def test_bad_paths_do_not_compile(path, fmt):
    with pytest.raises(response.PathError):
        response.check_path(path, fmt)


def test_a_bad_stored_path_is_an_error_not_a_crash():
    verdict = response.read(endpoint(success={"path": "$..[", "op": "exists"}), 200, {}, b"{}")
    assert verdict.outcome == "error"
    assert "Invalid JSONPath" in verdict.result
