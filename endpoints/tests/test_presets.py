"""Presets: listed by the API, created in one transaction, and working against a real server."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from adaptors.models import Adaptor
from endpoints import presets
from endpoints.client import call_sync
from endpoints.models import Endpoint

LIST_URL = "/api/v1/presets/"
CREATE_URL = "/api/v1/endpoints/from-preset/"
LEAD = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550100",
    "state": "CA",
    "zip_code": "94105",
}


def test_presets_are_listed_with_their_credentials(world):
    response = world.api_a.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    keys = [p["key"] for p in body["results"]]
    assert body["count"] == len(keys) >= 6
    assert {
        "hubspot_contacts",
        "salesforce_web_to_lead",
        "json_webhook",
        "form_post",
        "slack_webhook",
        "get_query_auth",
    } <= set(keys)
    hubspot = body["results"][keys.index("hubspot_contacts")]
    assert hubspot["credentials"][0]["name"] == "token"
    assert hubspot["credentials"][0]["secret"] is True


def test_anonymous_cannot_list_presets(world):
    assert world.anonymous.get(LIST_URL).status_code in (401, 403)


def _create(world, key, url, **credentials):
    response = world.api_a.post(
        CREATE_URL, {"preset": key, "url": url, "credentials": credentials}, format="json"
    )
    assert response.status_code == 201, response.content
    return Endpoint.objects.select_related("adaptor").get(pk=response.json()["id"])


def _send(endpoint):
    return call_sync(endpoint, LEAD, idempotency_key="preset-test")


def test_hubspot_preset_posts_properties_with_the_private_app_token(world, httpserver):
    httpserver.expect_request("/crm/v3/objects/contacts", method="POST").respond_with_json(
        {"id": "5101", "properties": {}}, status=201
    )
    endpoint = _create(
        world,
        "hubspot_contacts",
        httpserver.url_for("/crm/v3/objects/contacts"),
        token="pat-na1-secret-token",
    )

    result = _send(endpoint)

    assert result.outcome == "accepted", result.result
    assert result.captured == {"hubspot_contact_id": "5101"}
    sent = httpserver.log[0][0]
    assert sent.headers["Authorization"] == "Bearer pat-na1-secret-token"
    assert json.loads(sent.get_data())["properties"] == {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "phone": "+14155550100",
        "state": "CA",
        "zip": "94105",
    }
    assert endpoint.url.endswith("/crm/v3/objects/contacts")


def test_hubspot_rejection_reason_is_its_message(world, httpserver):
    httpserver.expect_request("/c").respond_with_json(
        {"status": "error", "message": "Contact already exists. Existing ID: 1"}, status=409
    )
    endpoint = _create(world, "hubspot_contacts", httpserver.url_for("/c"), token="pat-123456")

    result = _send(endpoint)

    assert (result.outcome, result.result) == ("rejected", "Contact already exists. Existing ID: 1")


def test_salesforce_web_to_lead_posts_a_form_with_the_org_id(world, httpserver):
    httpserver.expect_request("/servlet/servlet.WebToLead").respond_with_data("<html></html>")
    endpoint = _create(
        world,
        "salesforce_web_to_lead",
        httpserver.url_for("/servlet/servlet.WebToLead") + "?encoding=UTF-8",
        oid="00D000000000001",
        lead_source="Lead hub",
    )

    result = _send(endpoint)

    assert result.outcome == "accepted", result.result
    form = {k: v[0] for k, v in parse_qs(httpserver.log[0][0].get_data(as_text=True)).items()}
    assert form["oid"] == "00D000000000001"
    assert form["lead_source"] == "Lead hub"
    assert (form["first_name"], form["zip"]) == ("Ada", "94105")


def test_json_webhook_preset_signs_when_given_a_secret(world, httpserver):
    from endpoints import signing

    secret = signing.generate_secret()
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = _create(world, "json_webhook", httpserver.url_for("/hook"), signing_secret=secret)

    result = _send(endpoint)

    assert result.outcome == "accepted"
    sent = httpserver.log[0][0]
    signing.verify(secret, sent.headers, sent.get_data())
    assert json.loads(sent.get_data())["email"] == "ada@example.com"


def test_form_post_preset(world, httpserver):
    httpserver.expect_request("/form").respond_with_data("thanks")
    endpoint = _create(world, "form_post", httpserver.url_for("/form"))

    result = _send(endpoint)

    assert result.outcome == "accepted"
    assert "first_name=Ada" in httpserver.log[0][0].get_data(as_text=True)


def test_slack_preset_sends_a_text_message_and_reads_ok(world, httpserver):
    httpserver.expect_request("/services/T/B/X").respond_with_data("ok")
    endpoint = _create(world, "slack_webhook", httpserver.url_for("/services/T/B/X"))

    result = _send(endpoint)

    assert result.outcome == "accepted", result.result
    text = json.loads(httpserver.log[0][0].get_data())["text"]
    assert "Ada Lovelace" in text and "ada@example.com" in text


def test_slack_error_text_is_the_rejection_reason(world, httpserver):
    httpserver.expect_request("/services/T/B/X").respond_with_data("invalid_token", status=403)
    endpoint = _create(world, "slack_webhook", httpserver.url_for("/services/T/B/X"))

    assert _send(endpoint).result == "invalid_token"


def test_get_preset_appends_the_credentials_to_the_query(world, httpserver):
    httpserver.expect_request("/api", method="GET").respond_with_data("OK")
    endpoint = _create(
        world,
        "get_query_auth",
        httpserver.url_for("/api"),
        params="api_key=K-1234&credential=C-5678",
    )

    result = _send(endpoint)

    assert result.outcome == "accepted"
    args = httpserver.log[0][0].args
    assert (args["api_key"], args["credential"], args["first_name"]) == ("K-1234", "C-5678", "Ada")
    assert "K-1234" not in result.request["url"]


def test_every_preset_builds_a_request_that_renders(world):
    from adaptors.render import render_request

    for preset in presets.PRESETS:
        creds = {
            c.name: "whsec_" + "A" * 32 if c.name == "signing_secret" else "value-123"
            for c in preset.credentials
        }
        adaptor_fields, payload = presets.build(preset.key, creds, "https://buyer.example/x")
        adaptor = Adaptor(tenant=world.a, name="a", **adaptor_fields)
        endpoint = Endpoint(
            tenant=world.a,
            name="e",
            url=payload["url"],
            method=payload["method"],
            content_type=payload["content_type"],
        )
        request = render_request(endpoint, adaptor, LEAD)
        assert request.url.startswith("https://buyer.example/x"), preset.key


def test_missing_credentials_are_a_400_and_create_nothing(world):
    adaptors_before = Adaptor.objects.count()

    response = world.api_a.post(
        CREATE_URL, {"preset": "hubspot_contacts", "credentials": {}}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"credentials": {"token": ["This credential is required."]}}
    assert Adaptor.objects.count() == adaptors_before
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"preset": "nope"}, "preset"),
        ({"preset": "json_webhook"}, "url"),
        (
            {"preset": "json_webhook", "url": "https://x.example/", "credentials": {"bogus": "1"}},
            "credentials",
        ),
        (
            {
                "preset": "json_webhook",
                "url": "https://x.example/",
                "credentials": {"signing_secret": "nope"},
            },
            "signing_secret",
        ),
    ],
)
def test_bad_preset_input_names_the_field(world, payload, field):
    response = world.api_a.post(CREATE_URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Endpoint.objects.exists() and not Adaptor.objects.filter(tenant=world.a).exists()


def test_viewer_cannot_create_from_a_preset(world):
    response = world.api_a_viewer.post(
        CREATE_URL,
        {"preset": "form_post", "url": "https://x.example/"},
        format="json",
    )
    assert response.status_code == 403


def test_preset_endpoint_and_adaptor_belong_to_the_caller(world):
    endpoint = _create(world, "form_post", "https://x.example/")
    assert endpoint.tenant == world.a and endpoint.adaptor.tenant == world.a
    assert endpoint.name == "Generic form post"
    assert world.api_b.get(f"/api/v1/endpoints/{endpoint.pk}/").status_code == 404
