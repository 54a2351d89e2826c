import json

import pytest
from lxml import etree

from adaptors.models import Adaptor
from tenants.models import AuditEvent
from tests.factories import AdaptorFactory, EndpointFactory, LeadFactory
from tests.isolation import TenantIsolationCases

pytestmark = pytest.mark.django_db

URL = "/api/v1/adaptors/"
DRAFT = "/api/v1/adaptors/preview/"


class TestAdaptorIsolation(TenantIsolationCases):
    url = URL

    def make(self, tenant):
        return AdaptorFactory(tenant=tenant)

    def payload(self, world):
        return {
            "name": "HubSpot contacts",
            "mappings": [{"source": "first_name", "target": "properties.firstname"}],
        }


def test_create_stores_cleaned_settings_and_answers_them(world):
    response = world.api_a.post(
        URL,
        {
            "name": "HubSpot",
            "mappings": [
                {"source": "first_name", "target": "properties.firstname", "transform": " upper "},
                {"source": "zip_code", "target": "zip", "default": "00000"},
            ],
            "constants": [{"name": "properties.source", "value": "hub"}],
            "body_template": "",
            "xml_root": "contact",
            "delimiter": " ",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mappings"][0] == {
        "source": "first_name",
        "target": "properties.firstname",
        "transform": "upper",
    }
    assert body["delimiter"] == " "
    assert body["endpoint_count"] == 0
    adaptor = Adaptor.objects.get(pk=body["id"])
    assert adaptor.tenant == world.a
    assert adaptor.xml_root == "contact"
    assert AuditEvent.objects.filter(object_id=str(adaptor.pk), action="create").exists()


def test_defaults_apply_when_only_a_name_is_sent(world):
    body = world.api_a.post(URL, {"name": "Bare"}, format="json").json()
    assert (body["mappings"], body["constants"], body["xml_root"], body["delimiter"]) == (
        [],
        [],
        "lead",
        ",",
    )


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"mappings": [{"source": "a"}]}, "mappings", "mappings[0].target: is required"),
        ({"mappings": "nope"}, "mappings", "must be a list"),
        (
            {"mappings": [{"source": "a", "target": "b", "transform": "shout"}]},
            "mappings",
            "unknown transform 'shout'",
        ),
        ({"constants": [{"name": "a", "value": {"x": 1}}]}, "constants", "constants[0].value"),
        ({"body_template": "{{ ''.__class__ }}"}, "body_template", "not allowed"),
        ({"body_template": "{% for %}"}, "body_template", "line 1"),
        ({"xml_root": "two words"}, "xml_root", "not a valid XML element name"),
        ({"delimiter": "x" * 11}, "delimiter", "no more than 10"),
        ({"name": ""}, "name", "blank"),
        (
            {
                "mappings": [{"source": "a", "target": "email"}],
                "constants": [{"name": "email", "value": "x"}],
            },
            "mappings",
            "already sent by mappings[0].target",
        ),
    ],
)
def test_invalid_settings_are_a_400_naming_the_field(world, payload, field, fragment):
    response = world.api_a.post(URL, {"name": "X", **payload}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert any(fragment in message for message in errors[field]), errors
    assert not Adaptor.objects.exists()


def test_partial_update_checks_targets_against_the_stored_rows(world):
    adaptor = AdaptorFactory(tenant=world.a, mappings=[{"source": "a", "target": "email"}])
    response = world.api_a.patch(
        f"{URL}{adaptor.pk}/", {"constants": [{"name": "email", "value": "x"}]}, format="json"
    )
    assert response.status_code == 400
    assert "already sent" in response.json()["constants"][0]


def test_list_counts_the_endpoints_using_each_adaptor_and_filters(world):
    used = AdaptorFactory(tenant=world.a, name="Used one")
    AdaptorFactory(tenant=world.a, name="Spare")
    EndpointFactory(tenant=world.a, adaptor=used)
    EndpointFactory(tenant=world.a, adaptor=used)
    rows = world.api_a.get(URL).json()["results"]
    assert {row["name"]: row["endpoint_count"] for row in rows} == {"Used one": 2, "Spare": 0}
    in_use = world.api_a.get(URL, {"in_use": "true"}).json()["results"]
    assert [row["name"] for row in in_use] == ["Used one"]
    named = world.api_a.get(URL, {"name": "spa"}).json()["results"]
    assert [row["name"] for row in named] == ["Spare"]


def test_deleting_an_adaptor_in_use_is_a_409_and_keeps_it(world):
    adaptor = AdaptorFactory(tenant=world.a)
    EndpointFactory(tenant=world.a, adaptor=adaptor, name="CRM")
    response = world.api_a.delete(f"{URL}{adaptor.pk}/")
    assert response.status_code == 409
    assert "CRM" in response.json()["detail"]
    assert Adaptor.objects.filter(pk=adaptor.pk).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_deleting_an_unused_adaptor_works(world):
    adaptor = AdaptorFactory(tenant=world.a)
    assert world.api_a.delete(f"{URL}{adaptor.pk}/").status_code == 204
    assert not Adaptor.objects.filter(pk=adaptor.pk).exists()


# --- preview ------------------------------------------------------------------------------


def test_preview_renders_a_saved_adaptor_for_given_fields(world):
    adaptor = AdaptorFactory(
        tenant=world.a,
        mappings=[{"source": "first_name", "target": "contact.first", "transform": "upper"}],
        constants=[{"name": "src", "value": "hub"}],
    )
    response = world.api_a.post(
        f"{URL}{adaptor.pk}/preview/", {"fields": {"first_name": "Ada"}}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["method"] == "POST"
    assert body["url"] == "https://example.invalid/"
    assert body["headers"] == {"Content-Type": "application/json"}
    assert json.loads(body["body"]) == {"contact": {"first": "ADA"}, "src": "hub"}
    assert body["mapped"] == {"contact": {"first": "ADA"}, "src": "hub"}
    assert body["warnings"] == []


@pytest.mark.parametrize("content_type", ["xml", "form", "query"])
def test_preview_renders_each_content_type(world, content_type):
    adaptor = AdaptorFactory(tenant=world.a, mappings=[{"source": "first_name", "target": "fn"}])
    body = world.api_a.post(
        f"{URL}{adaptor.pk}/preview/",
        {"fields": {"first_name": "Ada & Co"}, "content_type": content_type},
        format="json",
    ).json()
    if content_type == "xml":
        assert etree.fromstring(body["body"].encode()).findtext("fn") == "Ada & Co"
    elif content_type == "form":
        assert body["body"] == "fn=Ada+%26+Co"
    else:
        assert body["body"] == ""
        assert body["url"] == "https://example.invalid/?fn=Ada+%26+Co"


def test_preview_of_a_lead_uses_its_fields_and_id(world):
    lead = LeadFactory(tenant=world.a)
    adaptor = AdaptorFactory(
        tenant=world.a, body_template='{"id": {{ lead.id }}, "f": "{{ fields.first_name }}"}'
    )
    body = world.api_a.post(f"{URL}{adaptor.pk}/preview/", {"lead": lead.pk}, format="json").json()
    assert json.loads(body["body"]) == {"id": lead.pk, "f": "Ada"}


def test_preview_refuses_a_lead_of_another_tenant(world):
    foreign = LeadFactory(tenant=world.b)
    adaptor = AdaptorFactory(tenant=world.a)
    response = world.api_a.post(f"{URL}{adaptor.pk}/preview/", {"lead": foreign.pk}, format="json")
    assert response.status_code == 400
    assert "lead" in response.json()


def test_preview_of_another_tenants_adaptor_is_a_404(world):
    adaptor = AdaptorFactory(tenant=world.b)
    response = world.api_a.post(f"{URL}{adaptor.pk}/preview/", {}, format="json")
    assert response.status_code == 404


def test_viewers_may_preview(world):
    adaptor = AdaptorFactory(tenant=world.a)
    assert (
        world.api_a_viewer.post(f"{URL}{adaptor.pk}/preview/", {}, format="json").status_code == 200
    )
    assert world.api_a_viewer.post(DRAFT, {}, format="json").status_code == 200


def test_anonymous_may_not_preview(world):
    assert world.anonymous.post(DRAFT, {}, format="json").status_code in (401, 403)


def test_preview_without_fields_uses_standard_sample_values(world):
    body = world.api_a.post(DRAFT, {}, format="json").json()
    assert json.loads(body["body"])["first_name"] == "Ada"


def test_preview_refuses_bad_input_naming_the_field(world):
    response = world.api_a.post(
        DRAFT, {"content_type": "yaml", "method": "DELETE", "fields": "x"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"content_type", "method", "fields"}


def test_draft_preview_renders_unsaved_settings_and_validates_them(world):
    draft = {
        "mappings": [{"source": "phone", "target": "p", "transform": "phone_10"}],
        "constants": [{"name": "k", "value": "v"}],
        "xml_root": "contact",
    }
    body = world.api_a.post(
        DRAFT,
        {"adaptor": draft, "fields": {"phone": "+14155550100"}, "content_type": "xml"},
        format="json",
    ).json()
    root = etree.fromstring(body["body"].encode())
    assert (root.tag, root.findtext("p"), root.findtext("k")) == ("contact", "4155550100", "v")
    assert not Adaptor.objects.exists()

    bad = world.api_a.post(
        DRAFT,
        {"adaptor": {"mappings": [{"source": "a", "target": "b", "transform": "x"}]}},
        format="json",
    )
    assert bad.status_code == 400
    assert "unknown transform 'x'" in bad.json()["adaptor"]["mappings"][0]


def test_preview_reports_render_errors_as_a_400_naming_the_setting(world):
    response = world.api_a.post(
        DRAFT,
        {"adaptor": {"mappings": [{"source": "a", "target": "has space"}]}, "content_type": "xml"},
        format="json",
    )
    assert response.status_code == 400
    assert "not a valid XML element name" in response.json()["mappings"][0]


def test_preview_warns_when_a_template_does_not_build_a_valid_document(world):
    body = world.api_a.post(
        DRAFT,
        {
            "adaptor": {"body_template": '{"a": {{ fields.first_name }}}'},
            "fields": {"first_name": "Ada"},
        },
        format="json",
    ).json()
    assert body["body"] == '{"a": Ada}'
    assert body["warnings"] and "not valid JSON" in body["warnings"][0]


def test_schema_documents_the_preview(world):
    response = world.api_a.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/adaptors/{id}/preview/" in paths
    assert "/api/v1/adaptors/preview/" in paths
