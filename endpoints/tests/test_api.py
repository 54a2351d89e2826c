"""The endpoints API: every field, validation naming the field, secrets kept write-only."""

from __future__ import annotations

import pytest

from endpoints.models import Endpoint
from tests.factories import AdaptorFactory, CampaignFactory, EndpointFactory
from tests.isolation import TenantIsolationCases

URL = "/api/v1/endpoints/"
MASK = "********"


def _payload(world, **overrides) -> dict:
    data = {
        "name": "Buyer A",
        "url": "https://buyer.example.com/leads",
        "adaptor": AdaptorFactory(tenant=world.a).pk,
    }
    data.update(overrides)
    return data


class TestEndpointIsolation(TenantIsolationCases):
    url = URL

    def make(self, tenant):
        return EndpointFactory(tenant=tenant)

    def payload(self, world) -> dict:
        return _payload(world)


def test_create_answers_every_contract_field(world):
    campaign = CampaignFactory(tenant=world.a)
    payload = _payload(
        world,
        category="dialer",
        method="PUT",
        sandbox_url="https://sandbox.buyer.example.com/leads",
        use_sandbox=True,
        content_type="xml",
        timeout_seconds=12,
        headers=[{"name": "X-Source", "value": "hub"}],
        auth={"type": "basic", "username": "hub", "password": "pw-0123456789"},
        signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        response_format="xml",
        success={"path": "/response/status", "op": "eq", "value": "ok"},
        capture=[{"path": "/response/id", "lead_field": "buyer_id"}],
        reject_reason_path="/response/reason",
        campaigns=[campaign.pk],
        priority=5,
        active=False,
        filters={"all": [{"field": "state", "op": "eq", "value": "CA"}]},
        caps={"daily": 100, "weekly": None},
        schedule={
            "timezone": "America/New_York",
            "windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}],
        },
        geo={"states_include": ["CA"], "zips_exclude": ["941"]},
        retry={"max_attempts": 5, "backoff_seconds": 60},
        rate_limit_per_second=20,
    )

    response = world.api_a.post(URL, payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    for key in (
        "name",
        "category",
        "method",
        "sandbox_url",
        "use_sandbox",
        "content_type",
        "timeout_seconds",
        "headers",
        "response_format",
        "success",
        "capture",
        "reject_reason_path",
        "campaigns",
        "priority",
        "active",
        "filters",
        "caps",
        "schedule",
        "geo",
        "retry",
        "rate_limit_per_second",
    ):
        assert body[key] == payload[key], key
    assert body["auth"] == {"type": "basic", "username": "hub", "password": MASK}
    assert body["has_signing_secret"] is True
    assert "signing_secret" not in body and "headers_text" not in body
    assert body["warnings"] == []
    endpoint = Endpoint.objects.get(pk=body["id"])
    assert endpoint.tenant == world.a
    assert endpoint.secrets == {
        "password": "pw-0123456789",
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    assert endpoint.auth == {"type": "basic", "username": "hub"}


def test_defaults_follow_the_contract(world):
    body = world.api_a.post(URL, _payload(world), format="json").json()
    assert (body["timeout_seconds"], body["content_type"], body["method"]) == (30, "json", "POST")
    assert body["auth"] == {"type": "none"}
    assert body["success"] is None and body["has_signing_secret"] is False


def test_headers_text_is_parsed_and_sensitive_values_become_secrets(world):
    response = world.api_a.post(
        URL,
        _payload(
            world,
            headers_text="Content-type: application/json|Authorization: OAuth TOKEN-998877|X-A: b:c",
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["headers"] == [
        {"name": "Content-type", "value": "application/json"},
        {"name": "X-A", "value": "b:c"},
        {"name": "Authorization", "value": MASK},
    ]
    endpoint = Endpoint.objects.get(pk=response.json()["id"])
    assert endpoint.secrets["headers"] == {"Authorization": "OAuth TOKEN-998877"}
    assert "TOKEN-998877" not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"headers_text": "no colon here"}, "headers_text"),
        ({"headers_text": "A: b", "headers": []}, "headers_text"),
        ({"headers": [{"name": "Bad Name", "value": "x"}]}, "headers"),
        ({"headers": [{"name": "Host", "value": "x"}]}, "headers"),
        ({"headers": [{"name": "X-A", "value": "a\r\nInjected: 1"}]}, "headers"),
        ({"headers": "X-A: b"}, "headers"),
        ({"auth": {"type": "magic"}}, "auth"),
        ({"auth": {"type": "basic", "username": "u"}}, "auth"),
        ({"auth": {"type": "bearer", "token": "t", "extra": 1}}, "auth"),
        ({"auth": {"type": "query", "params": "not a query"}}, "auth"),
        ({"auth": {"type": "header", "header_name": "Bad Name", "header_value": "v"}}, "auth"),
        (
            {
                "auth": {
                    "type": "oauth2",
                    "token_url": "ftp://x",
                    "client_id": "c",
                    "client_secret": "s",
                }
            },
            "auth",
        ),
        ({"signing_secret": "not-a-whsec"}, "signing_secret"),
        ({"signing_secret": "whsec_c2hvcnQ="}, "signing_secret"),
        ({"success": {"path": "$..[", "op": "exists"}}, "success"),
        ({"success": {"path": "$.a", "op": "gt", "value": 1}}, "success"),
        ({"success": {"path": "$.a", "op": "eq"}}, "success"),
        ({"success": {"path": "$.a", "op": "regex", "value": "("}}, "success"),
        ({"response_format": "xml", "success": {"path": "//*[", "op": "exists"}}, "success"),
        ({"response_format": "text", "success": {"path": "(", "op": "exists"}}, "success"),
        ({"capture": [{"path": "$.id"}]}, "capture"),
        ({"capture": [{"path": "$.id", "lead_field": "bad field"}]}, "capture"),
        ({"reject_reason_path": "$..["}, "reject_reason_path"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 301}, "timeout_seconds"),
        ({"rate_limit_per_second": 0}, "rate_limit_per_second"),
        ({"url": "ftp://files.example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"caps": {"daily": -1}}, "caps"),
        ({"caps": {"hourly": 5}}, "caps"),
        ({"schedule": {"timezone": "Mars/Base"}}, "schedule"),
        ({"geo": {"states_include": ["California"]}}, "geo"),
        ({"retry": {"max_attempts": 0}}, "retry"),
        ({"filters": {"field": "state", "op": "resembles", "value": "CA"}}, "filters"),
        ({"category": "spam"}, "category"),
        ({"method": "DELETE"}, "method"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(world, overrides, field):
    response = world.api_a.post(URL, _payload(world, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_an_adaptor_is_required_for_body_methods_but_not_for_get(world):
    post = world.api_a.post(URL, _payload(world, adaptor=None), format="json")
    get = world.api_a.post(
        URL, _payload(world, adaptor=None, method="GET", content_type="query"), format="json"
    )
    assert post.status_code == 400 and "adaptor" in post.json()
    assert get.status_code == 201, get.content


def test_another_tenants_adaptor_or_campaign_is_not_found(world):
    foreign_adaptor = AdaptorFactory(tenant=world.b)
    foreign_campaign = CampaignFactory(tenant=world.b)

    response = world.api_a.post(
        URL,
        _payload(world, adaptor=foreign_adaptor.pk, campaigns=[foreign_campaign.pk]),
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) >= {"adaptor", "campaigns"}


def test_a_private_url_is_saved_with_warnings(world):
    response = world.api_a.post(
        URL,
        _payload(world, url="http://127.0.0.1:8000/sandbox/abc", sandbox_url="http://10.0.0.5/"),
        format="json",
    )

    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith("url: http://127.0.0.1:8000/sandbox/abc points at a loopback")
    assert warnings[1].startswith("sandbox_url:")


def _created(world, **overrides) -> dict:
    response = world.api_a.post(URL, _payload(world, **overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_patch_without_secrets_keeps_them(world):
    body = _created(
        world,
        auth={"type": "bearer", "token": "tok-keep-123456"},
        signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        headers=[{"name": "X-Api-Key", "value": "hk-keep-123456"}],
    )

    response = world.api_a.patch(f"{URL}{body['id']}/", {"name": "Renamed"}, format="json")

    assert response.status_code == 200
    assert Endpoint.objects.get(pk=body["id"]).secrets == {
        "token": "tok-keep-123456",
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "headers": {"X-Api-Key": "hk-keep-123456"},
    }


def test_sending_the_mask_back_keeps_each_secret(world):
    body = _created(
        world,
        auth={"type": "header", "header_name": "X-Key", "header_value": "hv-keep-123456"},
        headers=[{"name": "Authorization", "value": "Token tk-keep-123456"}],
    )

    response = world.api_a.put(
        f"{URL}{body['id']}/",
        {**_payload(world), "auth": body["auth"], "headers": body["headers"]},
        format="json",
    )

    assert response.status_code == 200, response.content
    endpoint = Endpoint.objects.get(pk=body["id"])
    assert endpoint.secrets["header_value"] == "hv-keep-123456"
    assert endpoint.secrets["headers"] == {"Authorization": "Token tk-keep-123456"}


def test_an_omitted_secret_header_is_removed(world):
    body = _created(world, headers=[{"name": "X-Api-Key", "value": "hk-drop-123456"}])

    world.api_a.patch(f"{URL}{body['id']}/", {"headers": []}, format="json")

    assert "headers" not in Endpoint.objects.get(pk=body["id"]).secrets


def test_empty_values_clear_secrets(world):
    body = _created(
        world,
        auth={"type": "bearer", "token": "tok-clear-123456"},
        signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )

    response = world.api_a.patch(
        f"{URL}{body['id']}/", {"auth": {"type": "none"}, "signing_secret": ""}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["has_signing_secret"] is False
    assert Endpoint.objects.get(pk=body["id"]).secrets == {}


def test_changing_the_auth_type_needs_the_new_secret_and_drops_the_old(world):
    body = _created(world, auth={"type": "basic", "username": "u", "password": "pw-old-123456"})
    detail = f"{URL}{body['id']}/"

    missing = world.api_a.patch(detail, {"auth": {"type": "bearer"}}, format="json")
    changed = world.api_a.patch(
        detail, {"auth": {"type": "bearer", "token": "tok-new-123456"}}, format="json"
    )

    assert missing.status_code == 400 and "auth" in missing.json()
    assert changed.status_code == 200
    assert Endpoint.objects.get(pk=body["id"]).secrets == {"token": "tok-new-123456"}


def test_changing_the_response_format_revalidates_saved_paths(world):
    body = _created(world, success={"path": "$.status", "op": "eq", "value": "ok"})

    response = world.api_a.patch(f"{URL}{body['id']}/", {"response_format": "text"}, format="json")
    # "$.status" is also a valid regex; an XPath-only expression is not valid JSONPath.
    assert response.status_code == 200
    xml = _created(world, response_format="xml", success={"path": "/r/@ok", "op": "exists"})
    bad = world.api_a.patch(f"{URL}{xml['id']}/", {"response_format": "json"}, format="json")
    assert bad.status_code == 400 and "success" in bad.json()


def test_every_auth_type_is_accepted(world):
    for auth in (
        {"type": "none"},
        {"type": "basic", "username": "u", "password": "p-123456"},
        {"type": "bearer", "token": "t-123456"},
        {"type": "query", "params": "api_key=X1&credential=Y2"},
        {"type": "header", "header_name": "X-Key", "header_value": "v-123456"},
        {
            "type": "oauth2",
            "token_url": "https://auth.example.com/token",
            "client_id": "cid",
            "client_secret": "cs-123456",
            "scope": "leads",
            "client_auth": "basic",
        },
    ):
        body = _created(world, auth=auth)
        shown = {
            k: (
                MASK if k in ("password", "token", "params", "header_value", "client_secret") else v
            )
            for k, v in auth.items()
        }
        assert body["auth"] == shown


def test_filters_narrow_the_list(world):
    EndpointFactory(tenant=world.a, name="CRM one", category="crm", url="https://crm.example/x")
    EndpointFactory(tenant=world.a, name="Dialer", category="dialer", active=False)

    by_category = world.api_a.get(URL, {"category": "crm"}).json()
    by_active = world.api_a.get(URL, {"active": "false"}).json()
    by_q = world.api_a.get(URL, {"q": "crm.example"}).json()

    assert [r["name"] for r in by_category["results"]] == ["CRM one"]
    assert [r["name"] for r in by_active["results"]] == ["Dialer"]
    assert [r["name"] for r in by_q["results"]] == ["CRM one"]


def test_changes_are_audited_with_secrets_masked(world):
    from tenants.models import AuditEvent

    body = _created(world, auth={"type": "bearer", "token": "tok-audit-123456"})

    event = AuditEvent.objects.get(object_type="endpoints.endpoint", object_id=str(body["id"]))
    assert event.action == "create"
    assert "tok-audit-123456" not in str(event.after)
