"""Authentication hygiene: API keys, login throttling, CSRF on the console and on the API when
the console session is used, and the audit trail of configuration changes (secrets masked).

``check --deploy`` on the production settings is ``tenants/tests/test_settings.py``.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.cache import cache
from django.test import Client

from endpoints.models import Endpoint
from inbound.models import InboundHandler
from leads.models import Campaign
from tenants import models as tenant_models
from tenants.console import LOGIN_ATTEMPTS, console_site
from tenants.models import ApiKey, AuditEvent
from tests.factories import (
    AdaptorFactory,
    CampaignFactory,
    DeliveryFactory,
    EndpointFactory,
    handler_form_data,
)
from tests.security.support import tenant_state

pytestmark = pytest.mark.django_db

# ---- API keys --------------------------------------------------------------------------------


def _columns(obj) -> str:
    return json.dumps(
        {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}, default=str
    )


def test_an_api_key_is_stored_only_as_its_sha256(world):
    key, raw = ApiKey.issue(world.a, "stored")

    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.hashed == hashlib.sha256(raw.encode()).hexdigest()
    secret_part = raw.split("_", 2)[2]
    assert raw not in _columns(stored) and secret_part not in _columns(stored)


def test_api_keys_are_compared_in_constant_time(world, monkeypatch):
    key, raw = ApiKey.issue(world.a, "timed")
    compared: list[tuple[str, str]] = []
    real = tenant_models.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tenant_models.hmac, "compare_digest", spy)
    forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")

    assert ApiKey.authenticate(forged) is None
    assert ApiKey.authenticate(raw) == key
    assert compared == [
        (key.hashed, hashlib.sha256(forged.encode()).hexdigest()),
        (key.hashed, key.hashed),
    ]


def test_a_forged_key_with_a_real_prefix_is_401_and_leaves_no_trace(world, client):
    key, raw = ApiKey.issue(world.a, "target")
    forged = raw.rsplit("_", 1)[0] + "_" + "x" * 43

    response = client.get("/api/v1/campaigns/", HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert response.status_code == 401
    key.refresh_from_db()
    assert key.last_used_at is None


@pytest.mark.parametrize(
    "header",
    ["Bearer ", "Bearer lh_", "Bearer lh__", "Bearer lh_x_", "Basic dXNlcjpwdw==", "Bearer \x00"],
)
def test_malformed_credentials_never_authenticate(world, client, header):
    response = client.get("/api/v1/campaigns/", HTTP_AUTHORIZATION=header)

    assert response.status_code in (401, 403)


# ---- login throttling ------------------------------------------------------------------------


def test_throttling_one_account_does_not_lock_out_another(world):
    cache.clear()
    attacker = Client()
    for _ in range(LOGIN_ATTEMPTS):
        attacker.post("/console/login/", {"username": world.owner_a.username, "password": "bad"})

    refused = attacker.post(
        "/console/login/", {"username": world.owner_a.username, "password": "pw-123456"}
    )
    other = Client().post(
        "/console/login/", {"username": world.viewer_a.username, "password": "pw-123456"}
    )

    assert "Too many failed attempts" in refused.content.decode()
    assert "_auth_user_id" not in attacker.session
    assert other.status_code == 302
    cache.clear()


# ---- CSRF ------------------------------------------------------------------------------------


@pytest.fixture
def csrf_owner(world) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner_a)
    return client


def _add_urls() -> list[str]:
    urls = []
    for model, admin in console_site._registry.items():
        if any(str(p.pattern) == "add/" for p in admin.get_urls()):
            urls.append(f"/console/{model._meta.app_label}/{model._meta.model_name}/add/")
    return sorted(urls)


def test_every_console_add_form_refuses_a_post_without_a_csrf_token(world, csrf_owner):
    before = tenant_state(world.a)
    refused = {url: csrf_owner.post(url, {"name": "forged"}).status_code for url in _add_urls()}

    assert refused and set(refused.values()) == {403}, refused
    assert tenant_state(world.a) == before


def test_console_buttons_refuse_a_post_without_a_csrf_token(world, csrf_owner):
    endpoint = EndpointFactory(tenant=world.a, active=True)
    delivery = DeliveryFactory(tenant=world.a, status="failed")
    posts = [
        f"/console/x/endpoints/{endpoint.pk}/toggle/",
        f"/console/x/deliveries/{delivery.pk}/retry/",
        f"/console/x/deliveries/{delivery.pk}/cancel/",
        "/console/x/endpoints/presets/json_webhook/",
        f"/console/endpoints/endpoint/{endpoint.pk}/delete/",
        "/console/logout/",
    ]

    statuses = {
        url: csrf_owner.post(url, {"post": "yes", "url": "https://x.example/"}) for url in posts
    }

    assert {u: r.status_code for u, r in statuses.items()} == {u: 403 for u in posts}
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert (endpoint.active, delivery.status) == (True, "failed")
    assert Endpoint.objects.filter(tenant=world.a).count() == 2  # the delivery's and ours


def test_the_login_form_itself_needs_a_csrf_token(world):
    response = Client(enforce_csrf_checks=True).post(
        "/console/login/", {"username": world.owner_a.username, "password": "pw-123456"}
    )

    assert response.status_code == 403


def test_the_api_with_the_console_session_needs_a_csrf_token(world, csrf_owner):
    refused = csrf_owner.post(
        "/api/v1/campaigns/", {"name": "Forged"}, content_type="application/json"
    )
    csrf_owner.get("/console/")  # sets the csrftoken cookie
    token = csrf_owner.cookies["csrftoken"].value
    allowed = csrf_owner.post(
        "/api/v1/campaigns/",
        {"name": "Genuine"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert refused.status_code == 403
    assert allowed.status_code == 201, allowed.content
    assert list(Campaign.objects.filter(tenant=world.a).values_list("name", flat=True)) == [
        "Genuine"
    ]


def test_an_api_key_needs_no_csrf_token_and_ignores_a_session(world):
    """A Bearer key is not ambient (a browser never attaches it), so CSRF does not apply;
    a session cookie of another tenant's member does not change whose key it is."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin_b)
    raw = ApiKey.issue(world.a, "ci")[1]

    response = client.post(
        "/api/v1/campaigns/",
        {"name": "By key"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 201, response.content
    assert Campaign.objects.get(name="By key").tenant == world.a


# ---- the audit trail -------------------------------------------------------------------------

SECRETS = {
    "bearer": "tok-audit-bearer-123456",
    "header": "hk-audit-header-123456",
    "signing": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "new_bearer": "tok-audit-rotated-654321",
    "password": "pw-audit-console-123456",
    "client_secret": "cs-audit-oauth-123456",
    "handler": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY",
    "handler_new": "whsec_WllYV1ZVVFNSUVBPTk1MS0pJSEdGRURD",
}


def audit_rows(tenant) -> list[dict]:
    return list(AuditEvent.objects.filter(tenant=tenant).order_by("id").values())


def assert_no_secret_in_audit(tenant) -> None:
    text = json.dumps(audit_rows(tenant), default=str)
    leaked = [name for name, value in SECRETS.items() if value in text]
    # The key part of a whsec_ secret alone must not appear either.
    leaked += [n for n, v in SECRETS.items() if v.startswith("whsec_") and v[6:] in text]
    assert leaked == []


def events(tenant, object_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(tenant=tenant, object_type=object_type).order_by("id"))


def test_endpoint_changes_through_the_api_are_audited_with_secrets_masked(world):
    adaptor = AdaptorFactory(tenant=world.a)
    created = world.api_a.post(
        "/api/v1/endpoints/",
        {
            "name": "Audited buyer",
            "url": "https://buyer.example.com/leads",
            "adaptor": adaptor.pk,
            "auth": {"type": "bearer", "token": SECRETS["bearer"]},
            "headers": [{"name": "X-Api-Key", "value": SECRETS["header"]}],
            "signing_secret": SECRETS["signing"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = world.api_a.patch(
        f"/api/v1/endpoints/{pk}/",
        {"name": "Renamed buyer", "auth": {"type": "bearer", "token": SECRETS["new_bearer"]}},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert world.api_a.delete(f"/api/v1/endpoints/{pk}/").status_code == 204

    create, update, delete = events(world.a, "endpoints.endpoint")
    assert [e.action for e in (create, update, delete)] == ["create", "update", "delete"]
    assert all(e.actor.startswith("api-key:") and e.object_id == str(pk) for e in (create, update))
    assert update.before["name"] == "Audited buyer" and update.after["name"] == "Renamed buyer"
    assert update.before["secrets"] == update.after["secrets"] == "********"
    assert delete.before["name"] == "Renamed buyer" and delete.after is None
    assert_no_secret_in_audit(world.a)


def test_handler_changes_through_the_api_are_audited_with_secrets_masked(world):
    campaign = CampaignFactory(tenant=world.a)
    created = world.api_a.post(
        "/api/v1/inbound-handlers/",
        {"name": "Audited handler", "campaign": campaign.pk, "secret": SECRETS["handler"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = world.api_a.patch(
        f"/api/v1/inbound-handlers/{pk}/",
        {"protection_period_seconds": 60, "secret": SECRETS["handler_new"]},
        format="json",
    )
    assert changed.status_code == 200, changed.content

    create, update = events(world.a, "inbound.inboundhandler")
    assert (create.action, update.action) == ("create", "update")
    assert update.before["protection_period_seconds"] == 0
    assert update.after["protection_period_seconds"] == 60
    assert update.after["secret"] == "********"
    assert_no_secret_in_audit(world.a)


def _endpoint_form(adaptor, **overrides) -> dict:
    data = {
        "name": "Console audited",
        "category": "crm",
        "method": "POST",
        "url": "https://buyer.example.com/leads",
        "sandbox_url": "",
        "content_type": "json",
        "timeout_seconds": "30",
        "adaptor": str(adaptor.pk),
        "auth_type": "basic",
        "username": "hub",
        "password": SECRETS["password"],
        "signing_secret": SECRETS["signing"],
        "headers_rows-0-name": "X-Api-Key",
        "headers_rows-0-value": SECRETS["header"],
        "response_format": "json",
        "success_op": "",
        "reject_reason_path": "",
        "priority": "100",
        "active": "on",
        "filters": "",
        "schedule": "",
        "_save": "Save",
    }
    return data | overrides


def _handler_form(**overrides) -> dict:
    return handler_form_data(
        **{"name": "Console handler", "secret": SECRETS["handler"], **overrides}
    )


def test_console_changes_are_audited_with_the_user_and_secrets_masked(world, owner):
    adaptor = AdaptorFactory(tenant=world.a)
    added = owner.post("/console/endpoints/endpoint/add/", _endpoint_form(adaptor))
    assert added.status_code == 302, added.context["adminform"].form.errors
    endpoint = Endpoint.objects.get(tenant=world.a, name="Console audited")
    changed = owner.post(
        f"/console/endpoints/endpoint/{endpoint.pk}/change/",
        _endpoint_form(
            adaptor,
            name="Console renamed",
            auth_type="oauth2",
            token_url="https://auth.example.com/token",
            client_id="hub",
            client_secret=SECRETS["client_secret"],
            password="",
        ),
    )
    assert changed.status_code == 302, changed.context["adminform"].form.errors
    owner.post(f"/console/x/endpoints/{endpoint.pk}/toggle/")
    handler_added = owner.post("/console/inbound/inboundhandler/add/", _handler_form())
    assert handler_added.status_code == 302, handler_added.content[:2000]
    handler = InboundHandler.objects.get(tenant=world.a, name="Console handler")
    handler_changed = owner.post(
        f"/console/inbound/inboundhandler/{handler.pk}/change/",
        _handler_form(name="Console handler 2", secret=SECRETS["handler_new"]),
    )
    assert handler_changed.status_code == 302

    endpoint_events = events(world.a, "endpoints.endpoint")
    assert [e.action for e in endpoint_events] == ["create", "update", "update"]
    assert {e.actor for e in endpoint_events} == {world.owner_a.username}
    rename = endpoint_events[1]
    assert (rename.before["name"], rename.after["name"]) == ("Console audited", "Console renamed")
    assert endpoint_events[2].before["active"] is True
    assert endpoint_events[2].after["active"] is False
    handler_events = events(world.a, "inbound.inboundhandler")
    assert [e.action for e in handler_events] == ["create", "update"]
    assert handler_events[1].after["name"] == "Console handler 2"
    assert_no_secret_in_audit(world.a)


def test_issuing_and_revoking_api_keys_is_audited_without_the_key(world, owner):
    created = world.api_a.post("/api/v1/api-keys/", {"name": "zapier"}, format="json").json()
    world.api_a.delete(f"/api/v1/api-keys/{created['id']}/")
    owner.post("/console/tenants/apikey/add/", {"name": "console key", "role": "viewer"})
    console_key = ApiKey.objects.get(tenant=world.a, name="console key")
    owner.post(
        "/console/tenants/apikey/",
        {"action": "revoke", "_selected_action": [console_key.pk], "index": 0},
    )

    text = json.dumps(audit_rows(world.a), default=str)
    assert created["key"].split("_", 2)[2] not in text
    assert ApiKey.objects.get(pk=created["id"]).hashed not in text
    audited = [(e.action, e.object_id) for e in events(world.a, "tenants.apikey")]
    assert audited == [
        ("create", str(created["id"])),
        ("update", str(created["id"])),
        ("create", str(console_key.pk)),
        ("update", str(console_key.pk)),
    ]


def test_the_audit_trail_cannot_be_edited_or_deleted_in_the_console(world, owner):
    world.api_a.post("/api/v1/campaigns/", {"name": "Kept"}, format="json")
    event = AuditEvent.objects.get(tenant=world.a)
    base = f"/console/tenants/auditevent/{event.pk}"

    assert owner.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert owner.post(f"{base}/change/", {"actor": "someone else"}).status_code == 403
    owner.post(
        "/console/tenants/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert AuditEvent.objects.get(pk=event.pk).actor == event.actor


def test_audit_events_of_one_tenant_are_invisible_to_another(world, owner):
    world.api_a.post("/api/v1/campaigns/", {"name": "Audited only for A"}, format="json")
    other = Client()
    other.force_login(world.admin_b)

    mine = owner.get("/console/tenants/auditevent/").content.decode()
    theirs = other.get("/console/tenants/auditevent/").content.decode()

    assert "Audited only for A" in mine
    assert "Audited only for A" not in theirs
