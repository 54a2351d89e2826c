"""POST /api/v1/endpoints/{id}/test/: one real request now, answered with its call log."""

from __future__ import annotations

import json

from deliveries.models import Delivery
from logs.models import CallLog
from tests.factories import EndpointFactory, LeadFactory


def url(endpoint) -> str:
    return f"/api/v1/endpoints/{endpoint.pk}/test/"


def test_testing_with_a_lead_sends_its_fields_and_logs_a_test_call(world, httpserver):
    httpserver.expect_request("/buyer", method="POST").respond_with_json({"ok": True})
    endpoint = EndpointFactory(tenant=world.a, url=httpserver.url_for("/buyer"))
    lead = LeadFactory(tenant=world.a)
    response = world.api_a.post(url(endpoint), {"lead": lead.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "accepted"
    assert body["test"] is True
    assert body["request"]["method"] == "POST"
    assert body["request"]["url"] == httpserver.url_for("/buyer")
    assert json.loads(body["request"]["body"]) == {"first": "Ada", "phone": "+14155550100"}
    assert body["response"]["status_code"] == 200
    assert isinstance(body["duration_ms"], int)
    log = CallLog.objects.get(pk=body["id"])
    assert (log.test, log.lead_id, log.endpoint_id, log.delivery_id) == (
        True,
        lead.pk,
        endpoint.pk,
        None,
    )
    assert log.phone == "+14155550100"
    (sent,) = httpserver.log
    assert json.loads(sent[0].data) == {"first": "Ada", "phone": "+14155550100"}
    assert not Delivery.objects.exists()


def test_testing_with_sample_fields_normalises_them_and_can_use_the_sandbox(world, httpserver):
    httpserver.expect_request("/sandbox", method="POST").respond_with_json({"ok": True})
    endpoint = EndpointFactory(
        tenant=world.a,
        url="http://127.0.0.1:9/production-never-called",
        sandbox_url=httpserver.url_for("/sandbox"),
    )
    response = world.api_a.post(
        url(endpoint),
        {"fields": {"first_name": "Grace", "phone": "(415) 555-0199"}, "sandbox": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["lead"] is None
    assert body["request"]["url"] == httpserver.url_for("/sandbox")
    (sent,) = httpserver.log
    assert json.loads(sent[0].data) == {"first": "Grace", "phone": "+14155550199"}


def test_a_rejecting_buyer_is_logged_as_a_rejected_test_call(world, httpserver):
    httpserver.expect_request("/buyer").respond_with_json({"error": "duplicate"}, status=400)
    endpoint = EndpointFactory(tenant=world.a, url=httpserver.url_for("/buyer"))
    body = world.api_a.post(url(endpoint), {"fields": {"first_name": "A"}}, format="json").json()
    assert body["outcome"] == "rejected"
    assert body["response"]["status_code"] == 400
    assert CallLog.objects.get(pk=body["id"]).test is True


def test_invalid_sample_values_are_a_400_naming_the_field(world):
    endpoint = EndpointFactory(tenant=world.a)
    response = world.api_a.post(url(endpoint), {"fields": {"email": "not-an-email"}}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["fields"]
    assert not CallLog.objects.exists()


def test_lead_or_fields_is_required_but_not_both(world):
    endpoint = EndpointFactory(tenant=world.a)
    lead = LeadFactory(tenant=world.a)
    for body in ({}, {"lead": lead.pk, "fields": {"first_name": "A"}}):
        response = world.api_a.post(url(endpoint), body, format="json")
        assert response.status_code == 400
        assert "lead" in response.json()
    response = world.api_a.post(url(endpoint), {"fields": ["not", "a", "mapping"]}, format="json")
    assert response.status_code == 400
    assert "fields" in response.json()


def test_another_tenants_endpoint_or_lead_is_not_found(world):
    mine = EndpointFactory(tenant=world.a)
    theirs = EndpointFactory(tenant=world.b)
    their_lead = LeadFactory(tenant=world.b)
    assert world.api_a.post(url(theirs), {"fields": {}}, format="json").status_code == 404
    assert world.api_a.post(url(mine), {"lead": their_lead.pk}, format="json").status_code == 404
    assert not CallLog.objects.exists()


def test_viewers_and_anonymous_callers_cannot_test(world):
    endpoint = EndpointFactory(tenant=world.a)
    assert world.api_a_viewer.post(url(endpoint), {"fields": {}}, format="json").status_code == 403
    assert world.anonymous.post(url(endpoint), {"fields": {}}, format="json").status_code in (
        401,
        403,
    )
    assert not CallLog.objects.exists()
