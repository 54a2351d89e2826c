"""Hostile buyers and patterns: fuzzed answers for the response reader, a buyer answering
NaN, and catastrophic-backtracking patterns on every path that takes a tenant's regex.

Conditions that never raise are leads/tests/test_conditions_properties.py. The regex tests
carry a timeout: RE2 matches in linear time, so they finish at once; with a backtracking
engine ``(a+)+$`` against 100 ``a`` and a ``!`` would never finish, and the timeout turns that
hang into a failure (no test measures speed).
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
from django.test import override_settings
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deliveries.dispatcher import dispatch_due
from deliveries.engine import get_engine
from endpoints.models import Endpoint
from endpoints.response import ACCEPTED, ERROR, MAX_RESULT, OPS, REJECTED, read
from inbound.models import InboundHandler
from leads import conditions
from logs.models import CallLog
from tests.factories import AdaptorFactory, CampaignFactory, DeliveryFactory

EVIL_PATTERN = "(a+)+$"
EVIL_TEXT = "a" * 100 + "!"


# ---- fuzzed buyer answers ----------------------------------------------------------------------

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
_json_docs = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["id", "status", "ok", "error", "a", "b"]), inner, max_size=4
        ),
    ),
    max_leaves=10,
)
_xml_docs = st.one_of(
    st.builds(
        lambda tag, text, attr: f'<{tag} id="{attr}"><status>{text}</status><id>7</id></{tag}>',
        st.sampled_from(["r", "response", "x"]),
        st.text(alphabet="abcok<&>'\" 01", max_size=10),
        st.text(alphabet="abc\"'<", max_size=4),
    ),
    st.just('<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><r>&a;</r>'),
    st.just('<?xml version="1.0"?><r><![CDATA[x]]></r>'),
)
_bodies = st.one_of(
    st.binary(max_size=64),
    _json_docs.map(lambda d: json.dumps(d).encode()),
    _xml_docs.map(str.encode),
    st.text(max_size=64).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
_paths = {
    "json": st.sampled_from(
        ["$.status", "$.id", "$.a.b", "$..id", "$[0]", "$.a[?(@.b > 1)]", "$["]
    ),
    "xml": st.sampled_from(["/r/status", "//id", "string(//status)", "count(//*)", "//@id", "//["]),
    "text": st.sampled_from(["ok", "^(\\d+)$", "(?i)accepted: (\\w+)", EVIL_PATTERN, "(", "\\1"]),
}


@st.composite
def endpoints_and_answers(draw):
    fmt = draw(st.sampled_from(["json", "xml", "text"]))
    rule = None
    if draw(st.booleans()):
        rule = {"path": draw(_paths[fmt]), "op": draw(st.sampled_from(OPS))}
        rule["value"] = draw(st.one_of(_json_scalars, st.sampled_from([EVIL_PATTERN, "("])))
    captures = [
        {"path": draw(_paths[fmt]), "lead_field": f"f{i}"} for i in range(draw(st.integers(0, 2)))
    ]
    endpoint = SimpleNamespace(
        response_format=fmt,
        success=rule,
        capture=captures,
        reject_reason_path=draw(st.one_of(st.just(""), _paths[fmt])),
    )
    status = draw(st.integers(min_value=100, max_value=599))
    headers = draw(
        st.dictionaries(
            st.sampled_from(["Retry-After", "retry-after", "Location", "Content-Type"]),
            st.text(max_size=40),
            max_size=3,
        )
    )
    return endpoint, status, headers, draw(_bodies), draw(st.booleans())


def _capturing(body: bytes):
    endpoint = SimpleNamespace(
        response_format="json",
        success=None,
        capture=[{"path": "$.id", "lead_field": "buyer_id"}],
        reject_reason_path="",
    )
    return (endpoint, 200, {}, body, True)


@pytest.mark.timeout(120)
@settings(max_examples=400, deadline=None, derandomize=True)
@given(endpoints_and_answers())
@example(_capturing(b'{"id": NaN}'))
@example(_capturing(b'{"id": [1, -Infinity]}'))
@example(_capturing(b'{"id": 1e400}'))
def test_any_buyer_answer_gets_a_verdict_that_can_be_stored(case):
    endpoint, status, headers, body, complete = case

    verdict = read(endpoint, status, headers, body, complete=complete, limit=len(body))

    assert verdict.outcome in (ACCEPTED, REJECTED, ERROR)
    assert isinstance(verdict.result, str) and len(verdict.result) <= MAX_RESULT
    if verdict.outcome == ACCEPTED:
        assert 200 <= status < 300
    if verdict.result.startswith("endpoint response settings:"):
        # An invalid path (saved settings are validated; hand-edited rows end here): an error.
        assert (verdict.outcome, verdict.transient) == (ERROR, False)
    elif status >= 500 or status in (408, 429):
        assert (verdict.outcome, verdict.transient) == (ERROR, True)
    elif 300 <= status < 500:
        assert (verdict.outcome, verdict.transient) == (REJECTED, False)
    else:
        assert verdict.transient is False
    if verdict.retry_after is not None:
        assert math.isfinite(verdict.retry_after) and 0 <= verdict.retry_after <= 86400
    json.dumps(verdict.captured)  # plain JSON types (NaN included: the recorder nulls it)


@override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=True)
@pytest.mark.django_db(transaction=True)
def test_a_buyer_answering_nan_does_not_poison_its_delivery(world, httpserver, fresh_engine):
    """Python's json reads NaN/Infinity/1e400, PostgreSQL's jsonb refuses them: a captured NaN
    must not make the delivery unrecordable (it would be re-sent every lease, forever)."""
    httpserver.expect_request("/nan").respond_with_data(
        '{"ok": true, "id": NaN}', content_type="application/json"
    )
    httpserver.expect_request("/fine").respond_with_json({"ok": True, "id": 7})
    made = {}
    for name in ("nan", "fine"):
        endpoint = Endpoint.objects.create(
            tenant=world.a,
            name=name,
            url=httpserver.url_for(f"/{name}"),
            adaptor=AdaptorFactory(tenant=world.a),
            capture=[{"path": "$.id", "lead_field": "buyer_id"}],
        )
        made[name] = DeliveryFactory(tenant=world.a, endpoint=endpoint)

    dispatch_due()
    assert get_engine().wait_idle(30)

    for delivery in (made["fine"], made["nan"]):
        delivery.refresh_from_db()
        assert delivery.status == "accepted", (delivery.endpoint.name, delivery.status)
        assert CallLog.objects.filter(delivery=delivery).count() == 1
        delivery.lead.refresh_from_db()  # the follow-up ran for both (not undone by the NaN)
        assert delivery.lead.status == "sold", delivery.lead.status
    assert str(made["fine"].lead.fields["buyer_id"]) == "7"


# ---- regex bombs -------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_catastrophic_regex_in_a_condition_is_evaluated_in_linear_time():
    condition = {"field": "name", "op": "regex", "value": EVIL_PATTERN}
    conditions.validate(condition)

    assert conditions.evaluate(condition, {"name": EVIL_TEXT}) is False
    assert conditions.evaluate(condition, {"name": "a" * 100}) is True
    assert "name" in conditions.explain(condition, {"name": EVIL_TEXT})


def test_backreferences_are_refused_because_the_engine_is_re2():
    """RE2 has no backreferences: a pattern using one cannot be saved (proof of the engine)."""
    with pytest.raises(conditions.ConditionError):
        conditions.validate({"field": "name", "op": "regex", "value": r"(a)\1"})


@pytest.mark.timeout(30)
def test_a_catastrophic_endpoint_filter_routes_a_lead_at_once(world):
    campaign = CampaignFactory(tenant=world.a)
    adaptor = AdaptorFactory(tenant=world.a)
    created = world.api_a.post(
        "/api/v1/endpoints/",
        {
            "name": "Regex filtered",
            "url": "https://buyer.example.com/leads",
            "adaptor": adaptor.pk,
            "campaigns": [campaign.pk],
            "filters": {"field": "first_name", "op": "regex", "value": EVIL_PATTERN},
        },
        format="json",
    )
    assert created.status_code == 201, created.content

    lead = world.api_a.post(
        "/api/v1/leads/",
        {"campaign": campaign.pk, "fields": {"first_name": EVIL_TEXT}},
        format="json",
    )

    assert lead.status_code == 201, lead.content
    detail = world.api_a.get(f"/api/v1/leads/{lead.json()['id']}/").json()
    assert detail["deliveries"] == []
    assert [r["decision"] for r in detail["routing"]] != ["matched"]


@pytest.mark.timeout(30)
def test_a_catastrophic_inbound_condition_answers_at_once(world):
    handler = InboundHandler.objects.create(
        tenant=world.a,
        name="Regex conditions",
        campaign=CampaignFactory(tenant=world.a),
        parameters=[{"name": "first_name", "type": "text"}],
        mappings=[{"parameter": "first_name", "lead_field": "first_name"}],
        conditions={"field": "first_name", "op": "regex", "value": EVIL_PATTERN},
    )

    response = world.anonymous.post(handler.path, {"first_name": EVIL_TEXT}, format="json")

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}


@pytest.mark.timeout(30)
@override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=True)
@pytest.mark.parametrize(
    ("settings_", "body", "outcome"),
    [
        ({"success": {"path": "^" + EVIL_PATTERN, "op": "exists"}}, EVIL_TEXT * 50, "rejected"),
        (
            {"success": {"path": "(?s)(.*)", "op": "regex", "value": EVIL_PATTERN}},
            EVIL_TEXT * 50,
            "rejected",
        ),
        ({"capture": [{"path": "(x+x+)+y", "lead_field": "code"}]}, "x" * 5000, "accepted"),
        ({"reject_reason_path": "(a|aa)+$"}, EVIL_TEXT * 50, "rejected"),
    ],
    ids=["success-path", "success-regex-op", "capture", "reject-reason"],
)
def test_a_catastrophic_regex_in_a_text_response_rule_is_read_at_once(
    world, httpserver, settings_, body, outcome
):
    status = 400 if "reject_reason_path" in settings_ else 200
    httpserver.expect_request("/buyer").respond_with_data(body, status=status)
    endpoint = Endpoint.objects.create(
        tenant=world.a,
        name="Text buyer",
        url=httpserver.url_for("/buyer"),
        adaptor=AdaptorFactory(tenant=world.a),
        response_format="text",
        **settings_,
    )

    result = world.api_a.post(
        f"/api/v1/endpoints/{endpoint.pk}/test/", {"fields": {"first_name": "A"}}, format="json"
    ).json()

    assert result["outcome"] == outcome, result["result"]
    assert result["response"]["status_code"] == status
