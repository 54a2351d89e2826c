import json
import re
from html import unescape

import pytest
from django.test import Client

from adaptors.models import Adaptor
from tests.factories import AdaptorFactory, EndpointFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/console/adaptors/adaptor/"
ADD = "/console/adaptors/adaptor/add/"


def change_url(adaptor) -> str:
    return f"/console/adaptors/adaptor/{adaptor.pk}/change/"


def console(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def form_data(**overrides) -> dict:
    data = {
        "name": "HubSpot",
        "mappings": json.dumps([{"source": "first_name", "target": "properties.firstname"}]),
        "constants": "[]",
        "body_template": "",
        "xml_root": "lead",
        "delimiter": ",",
    }
    return {**data, **overrides}


def preview_config(html: str) -> dict:
    match = re.search(
        r'id="adaptor-preview"\s+data-draft-url="([^"]*)" data-detail-url="([^"]*)"\s+data-editable="(\w+)"',
        html,
    )
    assert match, "preview panel missing"
    return {"draft": match.group(1), "detail": match.group(2), "editable": match.group(3)}


def test_list_shows_mapping_and_endpoint_counts_of_the_tenant_only(world):
    mine = AdaptorFactory(tenant=world.a, name="Mine")
    EndpointFactory(tenant=world.a, adaptor=mine)
    AdaptorFactory(tenant=world.b, name="Theirs")
    response = console(world.owner_a).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mine" in html and "Theirs" not in html
    row = re.search(r"<tr>.*?Mine.*?</tr>", html, re.S).group(0)
    assert re.findall(r'<td class="field-(\w+)">(\d+)</td>', row) == [
        ("mapping_count", "2"),
        ("endpoint_count", "1"),
    ]


def test_in_use_filter(world):
    AdaptorFactory(tenant=world.a, name="Spare")
    used = AdaptorFactory(tenant=world.a, name="Busy")
    EndpointFactory(tenant=world.a, adaptor=used, name="Crm")
    html = console(world.owner_a).get(LIST, {"in_use": "no"}).content.decode()
    assert "Spare" in html and "Busy" not in html


def test_change_page_has_rows_editors_and_a_preview_of_the_newest_lead(world):
    LeadFactory(tenant=world.a, fields={"first_name": "Older"})
    newest = LeadFactory(tenant=world.a, fields={"first_name": "Grace"})
    LeadFactory(tenant=world.b, fields={"first_name": "Foreign"})
    adaptor = AdaptorFactory(tenant=world.a)
    response = console(world.owner_a).get(change_url(adaptor))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-json-rows="' in html
    textarea = re.search(r'<textarea name="mappings"[^>]*data-json-rows="([^"]*)"', html)
    columns = json.loads(unescape(textarea.group(1)))
    assert [c["name"] for c in columns] == ["source", "target", "transform", "default"]
    assert "first_name" in columns[0]["suggestions"]
    assert "adaptors/adaptor_form.js" in html
    config = preview_config(html)
    assert config == {
        "draft": "/api/v1/adaptors/preview/",
        "detail": f"/api/v1/adaptors/{adaptor.pk}/preview/",
        "editable": "true",
    }
    assert f"the newest lead (#{newest.pk})" in html
    assert "Grace" in html and "Older" not in html and "Foreign" not in html


def test_add_page_previews_standard_sample_values_without_leads(world):
    html = console(world.owner_a).get(ADD).content.decode()
    assert preview_config(html)["detail"] == ""
    assert "standard sample values" in html
    assert "Lovelace" in html


def test_change_page_lists_the_endpoints_using_it(world):
    adaptor = AdaptorFactory(tenant=world.a)
    EndpointFactory(tenant=world.a, adaptor=adaptor, name="Buyer CRM")
    assert "Buyer CRM" in console(world.owner_a).get(change_url(adaptor)).content.decode()


def test_saving_the_form_stores_cleaned_rows_for_the_tenant(world):
    mappings = [
        {"source": "phone", "target": "p", "transform": "phone_10 ", "default": "0"},
        {"source": "first_name", "target": "contact.first"},
    ]
    response = console(world.owner_a).post(
        ADD, form_data(mappings=json.dumps(mappings), delimiter=" ", xml_root="contact")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    adaptor = Adaptor.objects.get()
    assert adaptor.tenant == world.a
    assert adaptor.mappings[0] == {
        "source": "phone",
        "target": "p",
        "transform": "phone_10",
        "default": "0",
    }
    assert adaptor.delimiter == " "
    assert adaptor.xml_root == "contact"


def test_invalid_rows_are_shown_on_the_form_and_nothing_is_saved(world):
    bad = json.dumps([{"source": "phone", "target": "p", "transform": "phone10"}])
    response = console(world.owner_a).post(ADD, form_data(mappings=bad))
    assert response.status_code == 200
    assert (
        "mappings[0].transform: unknown transform &#x27;phone10&#x27;" in response.content.decode()
    )
    assert not Adaptor.objects.exists()


def test_conflicting_targets_are_shown_on_the_form(world):
    response = console(world.owner_a).post(
        ADD, form_data(constants=json.dumps([{"name": "properties.firstname", "value": "x"}]))
    )
    assert response.status_code == 200
    assert "already sent by mappings[0].target" in response.content.decode()


def test_bad_template_is_shown_on_the_form(world):
    response = console(world.owner_a).post(ADD, form_data(body_template="{{ ''.__class__ }}"))
    assert response.status_code == 200
    assert "not allowed" in response.content.decode()
    assert not Adaptor.objects.exists()


def test_an_adaptor_in_use_cannot_be_deleted_from_the_console(world):
    adaptor = AdaptorFactory(tenant=world.a)
    EndpointFactory(tenant=world.a, adaptor=adaptor, name="Buyer CRM")
    client = console(world.owner_a)
    page = client.get(f"/console/adaptors/adaptor/{adaptor.pk}/delete/").content.decode()
    assert "would require deleting the following protected related objects" in page
    client.post(f"/console/adaptors/adaptor/{adaptor.pk}/delete/", {"post": "yes"})
    assert Adaptor.objects.filter(pk=adaptor.pk).exists()


def test_another_tenants_adaptor_is_a_404(world):
    theirs = AdaptorFactory(tenant=world.b)
    assert console(world.owner_a).get(change_url(theirs)).status_code == 404


def test_viewer_sees_a_read_only_page_whose_preview_uses_the_saved_adaptor(world):
    adaptor = AdaptorFactory(tenant=world.a)
    client = console(world.viewer_a)
    html = client.get(change_url(adaptor)).content.decode()
    assert 'name="mappings"' not in html
    assert preview_config(html)["editable"] == "false"
    assert client.post(change_url(adaptor), form_data(name="Changed")).status_code == 403
    adaptor.refresh_from_db()
    assert adaptor.name != "Changed"


def test_preview_api_accepts_the_console_session_with_its_csrf_token(world):
    client = console(world.owner_a, csrf=True)
    client.get(ADD)  # sets the CSRF cookie, as the page does for its script
    token = client.cookies["csrftoken"].value
    payload = {
        "fields": {"first_name": "Ada"},
        "adaptor": {"mappings": [{"source": "first_name", "target": "f"}]},
    }
    refused = client.post("/api/v1/adaptors/preview/", payload, content_type="application/json")
    assert refused.status_code == 403
    answered = client.post(
        "/api/v1/adaptors/preview/",
        payload,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert answered.status_code == 200
    assert json.loads(answered.json()["body"]) == {"f": "Ada"}
