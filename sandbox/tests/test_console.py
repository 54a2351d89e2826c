"""Console pages of request bins, and the console layout (navigation, empty states)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from sandbox.models import BinRequest, RequestBin
from tenants.nav import ordered_app_list
from tests.factories import RequestBinFactory

pytestmark = pytest.mark.django_db

BINS = "/console/sandbox/requestbin/"
REQUESTS = "/console/sandbox/binrequest/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _send(bin: RequestBin, body: str) -> None:
    Client().post(bin.path, body, content_type="text/plain")


def test_bin_list_shows_each_bins_url_and_request_count(world):
    bin = RequestBinFactory(tenant=world.a, name="HubSpot rehearsal")
    RequestBinFactory(tenant=world.b, name="Bravo secret bin")
    for n in range(3):
        _send(bin, f"n={n}")
    page = _console(world.owner_a).get(BINS).content.decode()
    assert "HubSpot rehearsal" in page
    assert f"http://testserver/sandbox/{bin.token}" in page
    assert f'?bin__id__exact={bin.pk}">3</a>' in page
    assert "Bravo secret bin" not in page


def test_bin_page_lists_newest_requests_first_with_links(world):
    bin = RequestBinFactory(tenant=world.a)
    for body in ("body-oldest", "body-middle", "body-newest"):
        _send(bin, body)
    page = _console(world.owner_a).get(f"{BINS}{bin.pk}/change/").content.decode()
    assert page.index("body-newest") < page.index("body-middle") < page.index("body-oldest")
    newest = BinRequest.objects.filter(bin=bin).order_by("-id").first()
    assert f"{REQUESTS}{newest.pk}/change/" in page
    assert "All 3 requests" in page


def test_a_request_page_shows_headers_and_pretty_body(world):
    bin = RequestBinFactory(tenant=world.a)
    Client().post(
        bin.path, '{"first_name":"Ada"}', content_type="application/json", HTTP_X_SOURCE="crm"
    )
    row = BinRequest.objects.get(bin=bin)
    page = _console(world.viewer_a).get(f"{REQUESTS}{row.pk}/change/").content.decode()
    assert "X-Source" in page and "crm" in page
    assert "&quot;first_name&quot;: &quot;Ada&quot;" in page  # indented JSON, escaped


def test_another_tenants_bin_and_requests_are_not_found(world):
    bin = RequestBinFactory(tenant=world.b)
    _send(bin, "bravo")
    row = BinRequest.objects.get(bin=bin)
    client = _console(world.owner_a)
    assert client.get(f"{BINS}{bin.pk}/change/").status_code == 404
    assert client.get(f"{REQUESTS}{row.pk}/change/").status_code == 404
    assert "bravo" not in client.get(REQUESTS).content.decode()


def test_request_list_filter_offers_only_the_tenants_bins(world):
    RequestBinFactory(tenant=world.a, name="Acme bin")
    RequestBinFactory(tenant=world.b, name="Bravo bin")
    _send(RequestBin.objects.get(name="Acme bin"), "x")
    page = _console(world.owner_a).get(REQUESTS).content.decode()
    assert "Acme bin" in page
    assert "Bravo bin" not in page


def test_owner_adds_a_bin_and_is_told_it_worked(world):
    client = _console(world.owner_a)
    response = client.post(
        f"{BINS}add/",
        {
            "name": "New bin",
            "response_status": "201",
            "response_content_type": "application/json",
            "response_body": "{}",
        },
        follow=True,
    )
    assert response.status_code == 200
    bin = RequestBin.objects.get(name="New bin")
    assert bin.tenant == world.a
    assert "was added successfully" in response.content.decode()


def test_viewer_can_look_but_not_add_or_clear(world):
    bin = RequestBinFactory(tenant=world.a)
    _send(bin, "kept")
    client = _console(world.viewer_a)
    assert client.get(f"{BINS}{bin.pk}/change/").status_code == 200
    assert client.get(f"{BINS}add/").status_code == 403
    client.post(BINS, {"action": "clear_requests", "_selected_action": [bin.pk]})
    assert BinRequest.objects.filter(bin=bin).count() == 1


def test_clear_action_empties_only_the_selected_bins(world):
    chosen, other = RequestBinFactory(tenant=world.a), RequestBinFactory(tenant=world.a)
    _send(chosen, "a")
    _send(other, "b")
    response = _console(world.owner_a).post(
        BINS, {"action": "clear_requests", "_selected_action": [chosen.pk]}, follow=True
    )
    assert "Cleared 1 request(s)." in response.content.decode()
    assert not BinRequest.objects.filter(bin=chosen).exists()
    assert BinRequest.objects.filter(bin=other).exists()


def test_empty_list_says_what_to_do_next(world):
    page = _console(world.owner_a).get(BINS).content.decode()
    assert "No request bins yet" in page
    assert f'href="{BINS}add/"' in page
    viewer_page = _console(world.viewer_a).get(BINS).content.decode()
    assert "No request bins yet" in viewer_page
    assert f'href="{BINS}add/"' not in viewer_page


def test_empty_result_of_a_search_offers_to_clear_it(world):
    RequestBinFactory(tenant=world.a, name="Only bin")
    page = _console(world.owner_a).get(BINS, {"q": "zzz"}).content.decode()
    assert "No request bins match these filters" in page
    assert 'href="?">Clear all filters</a>' in page


def test_header_shows_tenant_role_and_api_docs(world):
    page = _console(world.viewer_a).get("/console/").content.decode()
    assert "Acme Leads" in page
    assert 'class="tenant-role role-viewer"' in page
    assert 'href="/api/v1/docs/"' in page
    assert "read-only" in page


def test_top_navigation_follows_the_data_flow(world):
    page = _console(world.owner_a).get("/console/").content.decode()
    nav = page[page.index('class="console-flow"') :]
    steps = re.findall(r'class="flow-link" href="[^"]*" title="[^"]*"[^>]*>([^<]+)</a>', nav)
    flow = ["Inbound", "Leads", "Routing", "Endpoints", "Deliveries", "Logs", "Tools"]
    present = [s for s in flow if s in steps]
    assert steps == present
    assert {"Leads", "Routing", "Tools"} <= set(steps)


def _app(label: str, *models: str) -> dict:
    return {
        "name": label.title(),
        "app_label": label,
        "app_url": f"/console/{label}/",
        "models": [
            {"object_name": m, "name": m + "s", "admin_url": f"/console/{label}/{m.lower()}/"}
            for m in models
        ],
    }


def test_sections_regroup_apps_in_the_order_a_lead_travels():
    app_list = [
        _app("adaptors", "Adaptor"),
        _app("deliveries", "Delivery"),
        _app("endpoints", "Endpoint"),
        _app("inbound", "InboundHandler"),
        _app("leads", "Campaign", "Lead", "LeadField"),
        _app("logs", "CallLog", "InboundCall"),
        _app("sandbox", "RequestBin"),
        _app("tenants", "ApiKey", "AuditEvent"),
    ]
    sections = ordered_app_list(app_list)
    assert [s["name"] for s in sections] == [
        "Inbound",
        "Leads",
        "Routing",
        "Endpoints",
        "Deliveries",
        "Logs",
        "Tools",
    ]
    by_name = {s["name"]: [m["object_name"] for m in s["models"]] for s in sections}
    assert by_name["Endpoints"] == ["Endpoint", "Adaptor"]
    assert by_name["Logs"] == ["CallLog", "InboundCall", "AuditEvent"]
    assert sections[1]["app_url"] == "/console/leads/lead/"
    assert ordered_app_list(sections) == sections


def test_a_model_no_section_names_lands_in_its_apps_section():
    sections = ordered_app_list([_app("endpoints", "Endpoint", "Preset")])
    assert [m["object_name"] for m in sections[0]["models"]] == ["Endpoint", "Preset"]
