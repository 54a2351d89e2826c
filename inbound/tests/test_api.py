"""The handler API: fields, validation, secrets, the public URL, calls and the spec."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from inbound.models import InboundHandler
from logs.models import InboundCall
from tests.factories import CampaignFactory, EndpointFactory, InboundHandlerFactory
from tests.isolation import TenantIsolationCases

from .conftest import SECRET

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound-handlers/"


class TestInboundHandlerIsolation(TenantIsolationCases):
    url = URL

    def make(self, tenant):
        return InboundHandlerFactory(tenant=tenant)

    def payload(self, world):
        return {"name": "Facebook lead ads", "body_type": "form"}


def create(world, **payload):
    return world.api_a.post(URL, {"name": "Partner", **payload}, format="json")


def test_create_with_every_field_round_trips(world, settings):
    settings.HUB_PUBLIC_URL = "https://hub.example.com/"
    campaign = CampaignFactory(tenant=world.a)
    endpoint = EndpointFactory(tenant=world.a)
    payload = {
        "name": "Partner",
        "description": "Solar leads from the partner",
        "method": "POST",
        "body_type": "json",
        "parameters": [{"name": "contact.email", "type": "text", "required": True}],
        "mappings": [{"parameter": "contact.email", "lead_field": "email"}],
        "campaign": campaign.pk,
        "protection_period_seconds": 600,
        "conditions": {"all": [{"field": "contact.email", "op": "not_empty"}]},
        "response": {"status_code": 200, "content_type": "text/plain", "body": "ok {{ lead.id }}"},
        "actions": [
            {"type": "distribute"},
            {"type": "deliver", "endpoint": endpoint.pk},
            {"type": "notify", "email": "Ops@Example.com"},
        ],
        "secret": SECRET,
        "allowed_ips": ["203.0.113.0/24", "2001:db8::1"],
        "active": True,
    }
    response = world.api_a.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    handler = InboundHandler.objects.get(pk=body["id"])
    assert "secret" not in body
    assert body["has_secret"] is True
    assert handler.secret == SECRET
    assert body["url"] == f"https://hub.example.com/hooks/{handler.token}"
    assert body["allowed_ips"] == ["203.0.113.0/24", "2001:db8::1/128"]
    assert body["actions"][2] == {"type": "notify", "email": "ops@example.com"}
    for key in ("parameters", "mappings", "conditions", "response", "campaign", "method"):
        assert body[key] == (
            [{**payload[key][0], "required": True}] if key == "parameters" else payload[key]
        )
    assert SECRET not in json.dumps(world.api_a.get(f"{URL}{handler.pk}/").json())


def test_url_is_built_from_the_request_without_a_public_url(world, settings):
    settings.HUB_PUBLIC_URL = ""
    body = create(world).json()
    token = InboundHandler.objects.get(pk=body["id"]).token
    assert body["url"] == f"http://testserver/hooks/{token}"


def test_secret_is_kept_when_omitted_and_removed_with_an_empty_string(world):
    handler = InboundHandlerFactory(tenant=world.a, secret=SECRET)
    response = world.api_a.patch(f"{URL}{handler.pk}/", {"name": "Renamed"}, format="json")
    assert response.json()["has_secret"] is True
    handler.refresh_from_db()
    assert handler.secret == SECRET
    response = world.api_a.patch(f"{URL}{handler.pk}/", {"secret": ""}, format="json")
    assert response.json()["has_secret"] is False


def test_secret_is_masked_in_the_audit_trail(world):
    from tenants.models import AuditEvent

    create(world, secret=SECRET)
    event = AuditEvent.objects.get(object_type="inbound.inboundhandler")
    assert SECRET not in json.dumps(event.after)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("conditions", {"all": [{"field": "x", "op": "resembles", "value": 1}]}),
        ("conditions", "not a condition"),
        ("response", {"status_code": 500}),
        ("response", {"body": "{{ lead.id "}),
        ("response", {"body": "{{ lead.__class__.__mro__ }}"}),
        ("response", {"body": "{{ 'x' * 100000000 }}"}),
        ("response", {"content_type": "text/plain\r\nX-Evil: 1"}),
        ("response", {"colour": "blue"}),
        ("actions", [{"type": "explode"}]),
        ("actions", [{"type": "deliver"}]),
        ("actions", [{"type": "notify", "email": "nope"}]),
        ("allowed_ips", ["300.1.1.1"]),
        ("allowed_ips", "10.0.0.0/8"),
        ("secret", "plain-password"),
        ("secret", "whsec_short"),
        ("parameters", [{"name": "a", "type": "colour"}]),
        ("parameters", [{"name": "a"}, {"name": "a"}]),
        ("parameters", [{"name": "a..b"}]),
        ("mappings", [{"parameter": "undeclared", "lead_field": "email"}]),
        ("mappings", [{"parameter": "a", "lead_field": "bad field!"}]),
        ("json_template", "{not json"),
        ("protection_period_seconds", 10**8),
    ],
)
def test_invalid_configuration_is_a_400_naming_the_field(world, field, value):
    payload = {field: value}
    if field == "mappings":
        payload["parameters"] = [{"name": "a", "type": "text"}]
    response = create(world, **payload)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_deliver_action_with_another_tenants_endpoint_is_400(world):
    foreign = EndpointFactory(tenant=world.b)
    response = create(world, actions=[{"type": "deliver", "endpoint": foreign.pk}])
    assert response.status_code == 400
    assert "not found" in response.json()["actions"][0]


def test_campaign_of_another_tenant_is_400(world):
    foreign = CampaignFactory(tenant=world.b)
    response = create(world, campaign=foreign.pk)
    assert response.status_code == 400
    assert "campaign" in response.json()


def test_saving_a_json_template_generates_parameters(world):
    sample = {
        "contact": {"email": "a@b.co", "age": 42, "score": 1.5, "opt_in": True},
        "tags": ["x", "y"],
        "items": [{"sku": "A1"}],
        "note": None,
    }
    response = create(world, json_template=json.dumps(sample))
    assert response.status_code == 201, response.content
    assert response.json()["parameters"] == [
        {"name": "contact.email", "type": "text", "required": False},
        {"name": "contact.age", "type": "integer", "required": False},
        {"name": "contact.score", "type": "number", "required": False},
        {"name": "contact.opt_in", "type": "boolean", "required": False},
        {"name": "tags", "type": "array", "required": False},
        {"name": "items.0.sku", "type": "text", "required": False},
        {"name": "note", "type": "text", "required": False},
    ]


def test_regenerating_parameters_keeps_required_flags(world):
    handler = InboundHandlerFactory(
        tenant=world.a,
        json_template='{"email": "a@b.co"}',
        parameters=[{"name": "email", "type": "text", "required": True}],
    )
    response = world.api_a.patch(
        f"{URL}{handler.pk}/",
        {"json_template": '{"email": "x@y.z", "zip": "94105"}'},
        format="json",
    )
    assert response.json()["parameters"] == [
        {"name": "email", "type": "text", "required": True},
        {"name": "zip", "type": "text", "required": False},
    ]


def test_explicit_parameters_win_over_the_template(world):
    response = create(
        world,
        json_template='{"email": "a@b.co"}',
        parameters=[{"name": "mail", "type": "string"}],
    )
    assert response.json()["parameters"] == [{"name": "mail", "type": "text", "required": False}]


def test_xml_sample_generates_parameters_for_an_xml_handler(world):
    response = create(
        world,
        body_type="xml",
        json_template="<lead><contact><email>a@b.co</email></contact></lead>",
    )
    assert [p["name"] for p in response.json()["parameters"]] == ["contact.email"]


def test_changing_parameters_rechecks_existing_mappings(world):
    handler = InboundHandlerFactory(
        tenant=world.a,
        parameters=[{"name": "mail", "type": "text"}],
        mappings=[{"parameter": "mail", "lead_field": "email"}],
    )
    response = world.api_a.patch(
        f"{URL}{handler.pk}/", {"parameters": [{"name": "email", "type": "text"}]}, format="json"
    )
    assert response.status_code == 400
    assert "mappings" in response.json()


def test_viewer_reads_calls_and_spec(world):
    handler = InboundHandlerFactory(tenant=world.a)
    assert world.api_a_viewer.get(f"{URL}{handler.pk}/calls/").status_code == 200
    assert world.api_a_viewer.get(f"{URL}{handler.pk}/spec/").status_code == 200


# --- calls -----------------------------------------------------------------------------------


def make_call(handler, *, age=timedelta(0), **values) -> InboundCall:
    call = InboundCall.objects.create(
        tenant=handler.tenant,
        handler=handler,
        method=values.pop("method", "POST"),
        status=values.pop("status", "success"),
        **values,
    )
    InboundCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - age)
    return call


def test_calls_lists_the_last_seven_days_newest_first(world):
    handler = InboundHandlerFactory(tenant=world.a)
    old = make_call(handler, age=timedelta(days=8))
    older = make_call(handler, age=timedelta(days=2), raw_body='{"a": 1}')
    newer = make_call(handler, age=timedelta(hours=1), status="error", error="bad")
    other_handler = make_call(InboundHandlerFactory(tenant=world.a))
    response = world.api_a.get(f"{URL}{handler.pk}/calls/")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["count"] == 2
    assert old.pk not in [row["id"] for row in body["results"]]
    assert other_handler.pk not in [row["id"] for row in body["results"]]
    row = body["results"][1]
    assert row["raw_body"] == '{"a": 1}'
    assert {"response_status", "response_content_type", "response_body"} <= set(row)


def test_calls_filters_by_since_method_and_status(world):
    handler = InboundHandlerFactory(tenant=world.a)
    old = make_call(handler, age=timedelta(days=20))
    get = make_call(handler, method="GET", age=timedelta(hours=2))
    dup = make_call(handler, status="duplicate", age=timedelta(hours=3))
    since = (timezone.now() - timedelta(days=30)).isoformat()

    def ids(query):
        response = world.api_a.get(f"{URL}{handler.pk}/calls/", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids({"since": since}) == [get.pk, dup.pk, old.pk]
    assert ids({"method": "GET"}) == [get.pk]
    assert ids({"status": "duplicate"}) == [dup.pk]
    assert ids({"timeframe": "1h"}) == []
    assert ids({"timeframe": "30d", "status": "success"}) == [get.pk, old.pk]


def test_calls_rejects_bad_filters(world):
    handler = InboundHandlerFactory(tenant=world.a)
    response = world.api_a.get(f"{URL}{handler.pk}/calls/", {"status": "great"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_calls_paginate(world):
    handler = InboundHandlerFactory(tenant=world.a)
    for _ in range(25):
        make_call(handler)
    body = world.api_a.get(f"{URL}{handler.pk}/calls/").json()
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"]


def test_calls_of_another_tenants_handler_are_404(world):
    handler = InboundHandlerFactory(tenant=world.b)
    make_call(handler)
    assert world.api_a.get(f"{URL}{handler.pk}/calls/").status_code == 404
    assert world.api_a.get(f"{URL}{handler.pk}/spec/").status_code == 404


# --- spec ------------------------------------------------------------------------------------


def test_spec_describes_how_to_post(world, settings):
    settings.HUB_PUBLIC_URL = "https://hub.example.com"
    handler = InboundHandlerFactory(
        tenant=world.a,
        body_type="json",
        parameters=[
            {"name": "contact.email", "type": "text", "required": True},
            {"name": "age", "type": "integer"},
        ],
        mappings=[{"parameter": "contact.email", "lead_field": "email"}],
        protection_period_seconds=120,
        secret=SECRET,
    )
    spec = world.api_a.get(f"{URL}{handler.pk}/spec/").json()
    assert spec["url"] == f"https://hub.example.com/hooks/{handler.token}"
    assert spec["method"] == "POST"
    assert spec["body_type"] == "json"
    assert spec["parameters"] == [
        {"name": "contact.email", "type": "text", "required": True, "lead_field": "email"},
        {"name": "age", "type": "integer", "required": False, "lead_field": None},
    ]
    assert set(spec["signing"]["headers"]) == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert SECRET not in json.dumps(spec)
    curl = spec["example_request"]["curl"]
    assert curl.startswith("curl")
    assert spec["url"] in curl
    assert "webhook-signature" in curl
    assert json.loads(spec["example_request"]["body"]) == {
        "contact": {"email": "ada@example.com"},
        "age": 42,
    }
    assert set(spec["example_responses"]) == {"accepted", "duplicate", "ignored", "error"}
    assert spec["example_responses"]["accepted"]["status_code"] == 201
    assert "120" in spec["example_responses"]["duplicate"]["note"]


def test_spec_without_a_secret_has_no_signing_and_form_example(world):
    handler = InboundHandlerFactory(
        tenant=world.a,
        body_type="form",
        parameters=[{"name": "email", "type": "text"}],
        mappings=[{"parameter": "email", "lead_field": "email"}],
    )
    spec = world.api_a.get(f"{URL}{handler.pk}/spec/").json()
    assert spec["signing"] is None
    assert spec["example_request"]["body"] == "email=ada%40example.com"
    assert "application/x-www-form-urlencoded" in spec["example_request"]["curl"]


def test_spec_example_request_is_accepted_by_the_receiver(world, hooks):
    handler = InboundHandlerFactory(
        tenant=world.a,
        body_type="xml",
        parameters=[
            {"name": "contact.email", "type": "text", "required": True},
            {"name": "contact.phone", "type": "text"},
        ],
        mappings=[
            {"parameter": "contact.email", "lead_field": "email"},
            {"parameter": "contact.phone", "lead_field": "phone"},
        ],
    )
    spec = world.api_a.get(f"{URL}{handler.pk}/spec/").json()
    example = spec["example_request"]
    response = hooks.post(handler, example["body"], content_type=example["content_type"])
    assert response.status_code == 201, response.content


def test_spec_of_a_get_handler(world):
    handler = InboundHandlerFactory(
        tenant=world.a,
        method="GET",
        parameters=[{"name": "email", "type": "text"}],
        mappings=[{"parameter": "email", "lead_field": "email"}],
    )
    spec = world.api_a.get(f"{URL}{handler.pk}/spec/").json()
    assert "?email=ada%40example.com" in spec["example_request"]["curl"]
    assert set(spec["example_responses"]) == {"found", "not_found", "ignored", "error"}
