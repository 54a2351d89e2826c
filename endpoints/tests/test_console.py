"""Console pages: the list with its Active toggle and row menu, the editor with write-only
secrets and the Test panel, and "New from preset"."""

from __future__ import annotations

import pytest
from django.test import Client

from endpoints.models import Endpoint
from tenants.models import AuditEvent
from tests.factories import AdaptorFactory, EndpointFactory, LeadFactory

LIST = "/console/endpoints/endpoint/"
ADD = "/console/endpoints/endpoint/add/"
PRESETS = "/console/x/endpoints/presets/"


def change_url(endpoint) -> str:
    return f"/console/endpoints/endpoint/{endpoint.pk}/change/"


def toggle_url(endpoint) -> str:
    return f"/console/x/endpoints/{endpoint.pk}/toggle/"


@pytest.fixture
def owner(world, client):
    client.force_login(world.owner_a)
    return client


@pytest.fixture
def viewer(world):
    client = Client()
    client.force_login(world.viewer_a)
    return client


def form_data(endpoint: Endpoint | None = None, **overrides) -> dict:
    """A full console form post for ``endpoint`` (or a new one), with ``overrides``."""
    data = {
        "name": "Console buyer",
        "category": "crm",
        "method": "POST",
        "url": "https://buyer.example.com/leads",
        "sandbox_url": "",
        "content_type": "json",
        "timeout_seconds": "30",
        "adaptor": "",
        "auth_type": "none",
        "response_format": "json",
        "success_op": "",
        "reject_reason_path": "",
        "priority": "100",
        "active": "on",
        "filters": "",
        "schedule": "",
        "_save": "Save",
    }
    if endpoint is not None:
        data.update(
            name=endpoint.name,
            url=endpoint.url,
            adaptor=str(endpoint.adaptor_id or ""),
            auth_type=endpoint.auth_type,
            **{k: v for k, v in (endpoint.auth or {}).items() if k != "type"},
        )
    data.update(overrides)
    return data


def test_the_list_shows_type_toggle_and_row_menu(world, owner):
    endpoint = EndpointFactory(tenant=world.a, name="Acme CRM", content_type="xml", method="PUT")

    html = owner.get(LIST).content.decode()

    assert "Acme CRM" in html
    assert "XML · PUT" in html
    assert f'formaction="{toggle_url(endpoint)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html  # carried by the changelist form
    assert f'href="{change_url(endpoint)}#test-panel"' in html
    assert f'href="/console/endpoints/endpoint/{endpoint.pk}/delete/"' in html
    assert 'href="/console/x/endpoints/presets/"' in html


def test_the_toggle_flips_active_audits_and_returns_to_the_list(world, owner):
    endpoint = EndpointFactory(tenant=world.a, active=True)

    response = owner.post(toggle_url(endpoint), {"next": LIST + "?category=crm"})

    assert response.status_code == 302
    assert response["Location"] == LIST + "?category=crm"
    endpoint.refresh_from_db()
    assert endpoint.active is False
    event = AuditEvent.objects.get(object_id=str(endpoint.pk), action="update")
    assert (event.before["active"], event.after["active"]) == (True, False)
    owner.post(toggle_url(endpoint))
    endpoint.refresh_from_db()
    assert endpoint.active is True


def test_the_toggle_needs_a_csrf_token_and_a_post(world):
    endpoint = EndpointFactory(tenant=world.a, active=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner_a)

    assert client.post(toggle_url(endpoint)).status_code == 403
    assert client.get(toggle_url(endpoint)).status_code == 405
    endpoint.refresh_from_db()
    assert endpoint.active is True


def test_the_toggle_ignores_an_offsite_next(world, owner):
    endpoint = EndpointFactory(tenant=world.a)
    response = owner.post(toggle_url(endpoint), {"next": "https://evil.example/"})
    assert response["Location"] == LIST


def test_a_viewer_sees_state_but_cannot_toggle(world, viewer):
    endpoint = EndpointFactory(tenant=world.a, active=True)

    html = viewer.get(LIST).content.decode()

    assert toggle_url(endpoint) not in html
    assert viewer.post(toggle_url(endpoint)).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.active is True


def test_another_tenants_endpoint_is_not_found(world, owner):
    foreign = EndpointFactory(tenant=world.b)

    assert owner.get(change_url(foreign)).status_code == 404
    assert owner.post(toggle_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.active is True


def test_the_change_page_has_fieldsets_and_a_test_panel_with_the_newest_lead(world, owner):
    endpoint = EndpointFactory(tenant=world.a)
    LeadFactory(tenant=world.a)
    newest = LeadFactory(tenant=world.a)
    LeadFactory(tenant=world.b)

    html = owner.get(change_url(endpoint)).content.decode()

    for legend in ("URL endpoint", "Authentication", "Response", "Routing", "Retry &amp; limits"):
        assert legend in html
    assert 'id="test-panel"' in html
    assert f'data-test-url="/api/v1/endpoints/{endpoint.pk}/test/"' in html
    assert f'<option value="{newest.pk}" selected>' in html
    assert "endpoints/console.js" in html


def test_the_add_form_creates_an_endpoint_with_secrets(world, owner):
    adaptor = AdaptorFactory(tenant=world.a)
    data = form_data(
        adaptor=str(adaptor.pk),
        auth_type="bearer",
        token="tok-console-123456",
        signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        **{
            "headers_rows-0-name": "X-Source",
            "headers_rows-0-value": "console",
            "headers_rows-1-name": "X-Api-Key",
            "headers_rows-1-value": "hk-console-123456",
            "capture_rows-0-path": "$.id",
            "capture_rows-0-lead_field": "buyer_id",
            "success_path": "$.status",
            "success_op": "eq",
            "success_value": "ok",
            "caps_daily": "50",
            "geo_states_include": "CA, NY",
            "retry_max_attempts": "4",
        },
    )

    response = owner.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = Endpoint.objects.get(tenant=world.a, name="Console buyer")
    assert endpoint.auth == {"type": "bearer"}
    assert endpoint.secrets == {
        "token": "tok-console-123456",
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "headers": {"X-Api-Key": "hk-console-123456"},
    }
    assert endpoint.headers == [{"name": "X-Source", "value": "console"}]
    assert endpoint.capture == [{"path": "$.id", "lead_field": "buyer_id"}]
    assert endpoint.success == {"path": "$.status", "op": "eq", "value": "ok"}
    assert endpoint.caps == {"daily": 50}
    assert endpoint.geo == {"states_include": ["CA", "NY"]}
    assert endpoint.retry == {"max_attempts": 4}


def _with_secrets(world):
    return EndpointFactory(
        tenant=world.a,
        auth={"type": "basic", "username": "hub"},
        secrets={"password": "pw-console-123456", "signing_secret": "whsec_" + "A" * 32},
    )


def test_blank_secret_inputs_keep_the_stored_values(world, owner):
    endpoint = _with_secrets(world)

    response = owner.post(change_url(endpoint), form_data(endpoint, name="Renamed"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint.refresh_from_db()
    assert endpoint.name == "Renamed"
    assert endpoint.secrets == {
        "password": "pw-console-123456",
        "signing_secret": "whsec_" + "A" * 32,
    }


def test_clear_checkboxes_remove_secrets(world, owner):
    endpoint = _with_secrets(world)

    owner.post(
        change_url(endpoint),
        form_data(endpoint, clear_signing_secret="on", password="pw-new-654321"),
    )

    endpoint.refresh_from_db()
    assert endpoint.secrets == {"password": "pw-new-654321"}


def test_errors_from_validation_are_shown_on_their_inputs(world, owner):
    endpoint = _with_secrets(world)

    bad_path = owner.post(
        change_url(endpoint), form_data(endpoint, success_path="$..[", success_op="exists")
    )
    bad_geo = owner.post(change_url(endpoint), form_data(endpoint, geo_states_exclude="Texas"))

    assert (bad_path.status_code, bad_geo.status_code) == (200, 200)
    assert "Invalid JSONPath" in str(bad_path.context["adminform"].form.errors["success_path"])
    assert "geo" in str(bad_geo.context["adminform"].form.errors["geo_states_include"])


def test_a_private_url_saves_with_a_warning_message(world, owner):
    adaptor = AdaptorFactory(tenant=world.a)
    response = owner.post(
        ADD, form_data(adaptor=str(adaptor.pk), url="http://127.0.0.1:8000/sandbox/x"), follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any("points at a loopback address" in m for m in messages)
    assert Endpoint.objects.filter(tenant=world.a, url="http://127.0.0.1:8000/sandbox/x").exists()


def test_a_viewer_cannot_save_the_form(world, viewer):
    endpoint = EndpointFactory(tenant=world.a, name="Before")
    response = viewer.post(change_url(endpoint), form_data(endpoint, name="After"))
    assert response.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.name == "Before"


def test_the_presets_page_lists_presets_with_credential_inputs(world, owner):
    html = owner.get(PRESETS).content.decode()

    assert "HubSpot contacts (CRM v3)" in html
    assert 'action="/console/x/endpoints/presets/hubspot_contacts/"' in html
    assert 'name="cred_token" type="password"' in html


def test_creating_from_a_preset_opens_the_new_endpoint(world, owner):
    response = owner.post(
        "/console/x/endpoints/presets/get_query_auth/",
        {"name": "Ping", "url": "https://buyer.example.com/ping", "cred_params": "api_key=K123"},
    )

    endpoint = Endpoint.objects.get(tenant=world.a, name="Ping")
    assert response.status_code == 302
    assert response["Location"] == change_url(endpoint)
    assert endpoint.secrets == {"params": "api_key=K123"}
    assert endpoint.adaptor.tenant == world.a


def test_a_preset_with_a_missing_credential_shows_the_error_and_creates_nothing(world, owner):
    response = owner.post(
        "/console/x/endpoints/presets/hubspot_contacts/", {"name": "HS", "url": ""}
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("token: This credential is required." in m for m in messages)
    assert not Endpoint.objects.filter(tenant=world.a).exists()


def test_a_viewer_cannot_create_from_a_preset(world, viewer):
    response = viewer.post(
        "/console/x/endpoints/presets/form_post/", {"url": "https://buyer.example.com/"}
    )
    assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_console_pages_need_a_login(world):
    anonymous = Client()
    assert anonymous.get(PRESETS).status_code == 302
    assert anonymous.post(toggle_url(EndpointFactory(tenant=world.a))).status_code == 302


def test_campaigns_are_saved_from_the_form_and_can_be_changed(world, owner):
    from tests.factories import CampaignFactory

    first, second = CampaignFactory(tenant=world.a), CampaignFactory(tenant=world.a)
    adaptor = AdaptorFactory(tenant=world.a)
    owner.post(ADD, form_data(adaptor=str(adaptor.pk), campaigns=[str(first.pk)]))
    endpoint = Endpoint.objects.get(tenant=world.a)

    response = owner.post(change_url(endpoint), form_data(endpoint, campaigns=[str(second.pk)]))

    assert response.status_code == 302
    assert list(endpoint.campaigns.all()) == [second]
