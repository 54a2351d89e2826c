"""call_sync and call_async against a real local HTTP server: bodies, outcomes, failure modes."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

import pytest
from django.test import override_settings
from lxml import etree
from werkzeug import Response

from endpoints import signing

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_json_body_is_posted_with_idempotency_key_and_accepted(call, make_endpoint, httpserver):
    httpserver.expect_request("/leads", method="POST").respond_with_json({"ok": True})
    endpoint = make_endpoint(httpserver.url_for("/leads"))

    result = call(endpoint, idempotency_key="key-42")

    assert result.outcome == "accepted", result.result
    assert result.result == "HTTP 200"
    assert result.transient is False
    sent, _ = httpserver.log[0]
    assert sent.headers["Idempotency-Key"] == "key-42"
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.get_data()) == {"first": "Ada", "phone": "+14155550100"}
    assert result.request["method"] == "POST"
    assert result.request["headers"]["Idempotency-Key"] == "key-42"
    assert json.loads(result.request["body"]) == {"first": "Ada", "phone": "+14155550100"}
    assert result.response["status_code"] == 200
    assert json.loads(result.response["body"]) == {"ok": True}


def test_xml_body_has_the_adaptor_root(call, make_endpoint, httpserver):
    httpserver.expect_request("/xml").respond_with_data("<ok/>", content_type="application/xml")
    endpoint = make_endpoint(
        httpserver.url_for("/xml"), content_type="xml", adaptor_kwargs={"xml_root": "contact"}
    )

    result = call(endpoint)

    assert result.outcome == "accepted", result.result
    root = etree.fromstring(httpserver.log[0][0].get_data())
    assert root.tag == "contact"
    assert root.findtext("first") == "Ada"


def test_form_body_is_urlencoded(call, make_endpoint, httpserver):
    httpserver.expect_request("/form").respond_with_data("thanks")
    endpoint = make_endpoint(httpserver.url_for("/form"), content_type="form")

    result = call(endpoint)

    assert result.outcome == "accepted", result.result
    sent = httpserver.log[0][0]
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.get_data(as_text=True)) == {"first": ["Ada"], "phone": ["+14155550100"]}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_query_content_type_sends_fields_in_the_url(call, make_endpoint, httpserver, method):
    httpserver.expect_request("/q", method=method).respond_with_data("ok")
    endpoint = make_endpoint(
        httpserver.url_for("/q") + "?src=hub", content_type="query", method=method
    )

    result = call(endpoint)

    assert result.outcome == "accepted", result.result
    sent = httpserver.log[0][0]
    assert sent.args.to_dict() == {"src": "hub", "first": "Ada", "phone": "+14155550100"}
    assert sent.get_data() == b""


@pytest.mark.parametrize(
    ("auth", "secrets", "check"),
    [
        (
            {"type": "basic", "username": "buyer"},
            {"password": "pa55-word-1"},
            lambda r: (
                r.authorization.username == "buyer" and r.authorization.password == "pa55-word-1"
            ),
        ),
        (
            {"type": "bearer"},
            {"token": "tok-abcdef-123"},
            lambda r: r.headers["Authorization"] == "Bearer tok-abcdef-123",
        ),
        (
            {"type": "query"},
            {"params": "api_key=key-98765&credential=cred-4321"},
            lambda r: r.args["api_key"] == "key-98765" and r.args["credential"] == "cred-4321",
        ),
        (
            {"type": "header", "header_name": "X-Buyer-Key"},
            {"header_value": "hv-13579-xyz"},
            lambda r: r.headers["X-Buyer-Key"] == "hv-13579-xyz",
        ),
    ],
    ids=["basic", "bearer", "query", "header"],
)
def test_each_auth_type_reaches_the_buyer_and_is_redacted(
    call, make_endpoint, httpserver, auth, secrets, check
):
    httpserver.expect_request("/auth").respond_with_data("ok")
    endpoint = make_endpoint(httpserver.url_for("/auth"), auth=auth, secrets=secrets)

    result = call(endpoint)

    assert result.outcome == "accepted", result.result
    assert check(httpserver.log[0][0])
    stored = json.dumps(result.request)
    for secret in secrets.values():
        values = [pair.split("=", 1)[-1] for pair in secret.split("&")]
        assert all(value not in stored for value in values)


def test_signed_requests_verify_with_the_standard_webhooks_scheme(call, make_endpoint, httpserver):
    httpserver.expect_request("/signed").respond_with_data("ok")
    endpoint = make_endpoint(httpserver.url_for("/signed"), secrets={"signing_secret": SECRET})

    result = call(endpoint, idempotency_key="dlv-7")

    assert result.outcome == "accepted", result.result
    sent = httpserver.log[0][0]
    assert sent.headers["webhook-id"] == "dlv-7"
    signing.verify(SECRET, sent.headers, sent.get_data())  # raises if wrong
    assert result.request["headers"]["webhook-signature"] == "********"


def test_endpoint_headers_are_sent_and_secret_ones_come_from_secrets(
    call, make_endpoint, httpserver
):
    httpserver.expect_request("/h").respond_with_data("ok")
    endpoint = make_endpoint(
        httpserver.url_for("/h"),
        headers=[{"name": "X-Source", "value": "hub"}],
        secrets={"headers": {"X-Api-Key": "header-secret-5555"}},
    )

    result = call(endpoint)

    sent = httpserver.log[0][0]
    assert sent.headers["X-Source"] == "hub"
    assert sent.headers["X-Api-Key"] == "header-secret-5555"
    assert "header-secret-5555" not in json.dumps(result.request)


def test_json_success_rule_and_capture(call, make_endpoint, httpserver):
    httpserver.expect_request("/rule").respond_with_json({"status": "success", "lead": {"id": 77}})
    endpoint = make_endpoint(
        httpserver.url_for("/rule"),
        success={"path": "$.status", "op": "eq", "value": "success"},
        capture=[{"path": "$.lead.id", "lead_field": "buyer_id"}],
    )

    result = call(endpoint)

    assert result.outcome == "accepted"
    assert result.result == "success"
    assert result.captured == {"buyer_id": 77}


def test_failed_rule_is_a_rejection_with_the_buyers_reason(call, make_endpoint, httpserver):
    httpserver.expect_request("/rule").respond_with_json(
        {"status": "duplicate", "message": "Lead already exists"}
    )
    endpoint = make_endpoint(
        httpserver.url_for("/rule"),
        success={"path": "$.status", "op": "eq", "value": "success"},
        reject_reason_path="$.message",
    )

    result = call(endpoint)

    assert result.outcome == "rejected"
    assert result.result == "Lead already exists"
    assert result.transient is False


def test_xml_and_text_rules_read_their_formats(call, make_endpoint, httpserver):
    httpserver.expect_request("/xml").respond_with_data(
        "<response><result>OK</result><id>9</id></response>", content_type="text/xml"
    )
    httpserver.expect_request("/text").respond_with_data("ACCEPTED id=123")
    xml_endpoint = make_endpoint(
        httpserver.url_for("/xml"),
        response_format="xml",
        success={"path": "/response/result", "op": "eq", "value": "OK"},
        capture=[{"path": "string(/response/id)", "lead_field": "buyer_id"}],
    )
    text_endpoint = make_endpoint(
        httpserver.url_for("/text"),
        response_format="text",
        success={"path": "^ACCEPTED", "op": "exists"},
        capture=[{"path": r"id=(\d+)", "lead_field": "buyer_id"}],
    )

    xml_result = call(xml_endpoint)
    text_result = call(text_endpoint)

    assert (xml_result.outcome, xml_result.captured) == ("accepted", {"buyer_id": "9"})
    assert (text_result.outcome, text_result.captured) == ("accepted", {"buyer_id": "123"})


def test_4xx_is_a_final_rejection_with_the_reason(call, make_endpoint, httpserver):
    httpserver.expect_request("/bad").respond_with_json({"error": "phone invalid"}, status=422)
    endpoint = make_endpoint(httpserver.url_for("/bad"), reject_reason_path="$.error")

    result = call(endpoint)

    assert (result.outcome, result.result, result.transient) == ("rejected", "phone invalid", False)
    assert result.response["status_code"] == 422


def test_500_is_a_transient_error(call, make_endpoint, httpserver):
    httpserver.expect_request("/boom").respond_with_data("db down", status=500)
    endpoint = make_endpoint(httpserver.url_for("/boom"))

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", True)
    assert result.result.startswith("HTTP 500")
    assert result.retry_after is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_read_on_429_and_503(call, make_endpoint, httpserver, status):
    httpserver.expect_request("/slow").respond_with_data(
        "later", status=status, headers={"Retry-After": "120"}
    )
    endpoint = make_endpoint(httpserver.url_for("/slow"))

    result = call(endpoint)

    assert (result.outcome, result.transient, result.retry_after) == ("error", True, 120.0)


def test_408_is_transient(call, make_endpoint, httpserver):
    httpserver.expect_request("/t").respond_with_data("", status=408)
    result = call(make_endpoint(httpserver.url_for("/t")))
    assert (result.outcome, result.transient) == ("error", True)


def test_a_buyer_that_hangs_times_out_as_a_transient_error(call, make_endpoint, httpserver):
    release = threading.Event()

    def hang(request):
        release.wait(10)
        return Response("late")

    httpserver.expect_request("/hang").respond_with_handler(hang)
    endpoint = make_endpoint(httpserver.url_for("/hang"), timeout_seconds=1)
    try:
        result = call(endpoint)
    finally:
        release.set()

    assert (result.outcome, result.transient) == ("error", True)
    assert "timed out" in result.result
    assert result.response["status_code"] is None
    assert result.request["url"] == httpserver.url_for("/hang")


def test_refused_connection_is_a_transient_error(call, make_endpoint, free_port):
    endpoint = make_endpoint(f"http://127.0.0.1:{free_port}/x")

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", True)
    assert result.result.startswith("connection failed")


@pytest.mark.parametrize(
    ("fmt", "body", "message"),
    [
        ("json", b"<html>oops</html>", "not valid JSON"),
        ("xml", b"{not xml", "not valid XML"),
    ],
)
def test_an_unparseable_body_is_a_permanent_error(
    call, make_endpoint, httpserver, fmt, body, message
):
    httpserver.expect_request("/p").respond_with_data(body)
    endpoint = make_endpoint(
        httpserver.url_for("/p"),
        response_format=fmt,
        success={"path": "$.ok" if fmt == "json" else "/ok", "op": "exists"},
    )

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", False)
    assert message in result.result


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<result>&lol9;</result>"""


def test_an_xml_entity_bomb_is_an_error(call, make_endpoint, httpserver):
    httpserver.expect_request("/bomb").respond_with_data(BOMB, content_type="application/xml")
    endpoint = make_endpoint(
        httpserver.url_for("/bomb"),
        response_format="xml",
        success={"path": "/result", "op": "exists"},
    )

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", False)
    assert "XML" in result.result


def _huge(request):
    def chunks():
        yield b"OK " + b"x" * (1024 * 1024 - 3)
        for _ in range(19):
            yield b"x" * (1024 * 1024)

    return Response(chunks(), content_type="text/plain")


@override_settings(HUB_RESPONSE_BODY_CAP=4096)
def test_a_huge_body_is_capped_and_the_outcome_still_computed(call, make_endpoint, httpserver):
    httpserver.expect_request("/huge").respond_with_handler(_huge)
    plain = make_endpoint(httpserver.url_for("/huge"))
    ruled = make_endpoint(
        httpserver.url_for("/huge"),
        response_format="text",
        success={"path": "^OK", "op": "exists"},
    )
    as_json = make_endpoint(httpserver.url_for("/huge"), success={"path": "$.ok", "op": "exists"})

    plain_result = call(plain)
    ruled_result = call(ruled)
    json_result = call(as_json)

    assert plain_result.outcome == "accepted"
    assert len(plain_result.response["body"]) == 4096
    assert ruled_result.outcome == "accepted"
    assert len(ruled_result.response["body"]) == 4096
    assert (json_result.outcome, json_result.transient) == ("error", False)
    assert "too large" in json_result.result


def test_redirects_are_never_followed(call, make_endpoint, httpserver):
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    httpserver.expect_request("/elsewhere").respond_with_data("should not be reached")
    endpoint = make_endpoint(httpserver.url_for("/moved"))

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("rejected", False)
    assert "not followed" in result.result
    assert [r.path for r, _ in httpserver.log] == ["/moved"]


def test_a_render_error_is_a_permanent_error_without_sending(call, make_endpoint, httpserver):
    endpoint = make_endpoint(httpserver.url_for("/never"))  # no sandbox URL

    result = call(endpoint, sandbox=True)

    assert (result.outcome, result.transient) == ("error", False)
    assert result.result.startswith("cannot build the request")
    assert httpserver.log == []


def test_sandbox_url_is_used_when_asked(call, make_endpoint, httpserver):
    httpserver.expect_request("/sandbox").respond_with_data("ok")
    endpoint = make_endpoint(
        httpserver.url_for("/production"), sandbox_url=httpserver.url_for("/sandbox")
    )

    result = call(endpoint, sandbox=True)

    assert result.outcome == "accepted"
    assert [r.path for r, _ in httpserver.log] == ["/sandbox"]


def test_without_an_adaptor_every_field_is_sent(call, make_endpoint, httpserver):
    httpserver.expect_request("/all", method="GET").respond_with_data("ok")
    endpoint = make_endpoint(
        httpserver.url_for("/all"), adaptor=False, method="GET", content_type="query"
    )

    call(endpoint, {"first_name": "Ada", "email": "ada@example.com"})

    assert httpserver.log[0][0].args.to_dict() == {
        "first_name": "Ada",
        "email": "ada@example.com",
    }


def test_a_secret_echoed_by_the_buyer_is_redacted_in_the_stored_response(
    call, make_endpoint, httpserver
):
    httpserver.expect_request("/echo").respond_with_data("your token is tok-echo-24680")
    endpoint = make_endpoint(
        httpserver.url_for("/echo"), auth={"type": "bearer"}, secrets={"token": "tok-echo-24680"}
    )

    result = call(endpoint)

    assert "tok-echo-24680" not in result.response["body"]
    assert "********" in result.response["body"]


def test_call_async_without_a_preloaded_adaptor_is_an_error_not_a_crash(make_endpoint, httpserver):
    from endpoints.models import Endpoint
    from endpoints.tests.conftest import SAMPLE, run_async

    endpoint = Endpoint.objects.get(pk=make_endpoint(httpserver.url_for("/x")).pk)

    result = run_async(endpoint, SAMPLE, idempotency_key="k")

    assert (result.outcome, result.transient) == ("error", False)
    assert "select_related('adaptor')" in result.result
    assert httpserver.log == []
