"""GET handlers: look a lead up by the mapped query parameters and answer its mapped fields."""

from __future__ import annotations

import pytest

from logs.models import InboundCall
from tests.factories import LeadFactory

from .conftest import SECRET, sign

pytestmark = pytest.mark.django_db

LOOKUP = {
    "method": "GET",
    "parameters": [{"name": "email", "type": "text"}, {"name": "phone", "type": "text"}],
    "mappings": [
        {"parameter": "email", "lead_field": "email"},
        {"parameter": "phone", "lead_field": "phone"},
    ],
}


@pytest.fixture
def ada(world):
    return LeadFactory(
        tenant=world.a,
        fields={"email": "ada@example.com", "phone": "+14155550100", "city": "London"},
    )


def test_lookup_by_email_answers_the_mapped_fields(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "email=ADA%40example.com")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "found",
        "lead_id": ada.pk,
        "fields": {"email": "ada@example.com", "phone": "+14155550100"},
    }
    call = InboundCall.objects.get()
    assert (call.status, call.lead_id, call.method) == ("success", ada.pk, "GET")
    assert call.query == "email=ADA%40example.com"


def test_lookup_by_a_phone_in_any_format(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "phone=(415)%20555-0100")
    assert response.json()["lead_id"] == ada.pk


def test_lookup_needs_every_given_parameter_to_match(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "email=ada%40example.com&phone=4155550199")
    assert response.status_code == 404
    assert response.json() == {"status": "not_found"}
    call = InboundCall.objects.get()
    assert call.status == "error"
    assert call.response_status == 404


def test_lookup_by_a_non_indexed_field(make_handler, hooks, ada):
    handler = make_handler(
        method="GET",
        parameters=[{"name": "town", "type": "text"}],
        mappings=[{"parameter": "town", "lead_field": "city"}],
    )
    response = hooks.get(handler, "town=London")
    assert response.json() == {"status": "found", "lead_id": ada.pk, "fields": {"city": "London"}}


def test_lookup_never_finds_another_tenants_lead(world, make_handler, hooks):
    LeadFactory(tenant=world.b, fields={"email": "bea@example.com"})
    handler = make_handler(**LOOKUP)
    assert hooks.get(handler, "email=bea%40example.com").status_code == 404


def test_lookup_without_parameters_is_400(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "")
    assert response.status_code == 400
    assert "at least one" in response.json()["error"]


def test_lookup_with_an_invalid_value_is_400_naming_it(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "email=nope")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]


def test_lookup_with_invalid_percent_encoding_is_400(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "email=%ff%fe")
    assert response.status_code == 400


def test_lookup_with_a_nul_character_is_400(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.get(handler, "email=a%00b%40example.com")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]


def test_lookup_answers_through_the_response_template(make_handler, hooks, ada):
    handler = make_handler(
        **LOOKUP, response={"body": "{{ status }}:{{ lead.id }}:{{ lead.city }}"}
    )
    response = hooks.get(handler, "email=ada%40example.com")
    assert response.content.decode() == f"found:{ada.pk}:London"


def test_post_to_a_get_handler_is_405(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP)
    response = hooks.post(handler, {"email": "ada@example.com"})
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_signed_lookup(make_handler, hooks, ada):
    handler = make_handler(**LOOKUP, secret=SECRET)
    assert hooks.get(handler, "email=ada%40example.com").status_code == 401
    response = hooks.get(handler, "email=ada%40example.com", **sign(SECRET, b""))
    assert response.status_code == 200
