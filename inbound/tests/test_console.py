"""Console pages of inbound handlers: list, editor, calls, one call, posting instructions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from inbound.models import InboundHandler
from logs.models import InboundCall
from tests.factories import InboundHandlerFactory, handler_form_data

from .conftest import SECRET

pytestmark = pytest.mark.django_db

HANDLERS = "/console/inbound/inboundhandler/"


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def calls_page(handler) -> str:
    return f"/console/x/inbound/handlers/{handler.pk}/calls/"


form_data = handler_form_data


def test_list_shows_calls_of_the_last_seven_days_with_a_link(world, make_handler, hooks):
    handler = make_handler(name="Facebook ads")
    InboundHandlerFactory(tenant=world.b, name="Bravo handler")
    for n in range(3):
        hooks.post(handler, {"contact": {"email": f"lead{n}@example.com"}})
    old = InboundCall.objects.order_by("id").first()
    InboundCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    page = console(world.owner_a).get(HANDLERS).content.decode()
    assert "Facebook ads" in page
    assert "Bravo handler" not in page
    assert f'href="{calls_page(handler)}">2</a>' in page
    assert f"http://testserver/hooks/{handler.token}" in page
    assert "copy-button" in page


def test_creating_a_handler_from_the_console_with_an_uploaded_sample(world):
    sample = SimpleUploadedFile(
        "sample.json", json.dumps({"contact": {"email": "a@b.co"}, "age": 3}).encode()
    )
    data = form_data(
        json_template_file=sample,
        mappings='[{"parameter": "contact.email", "lead_field": "email"}]',
        secret=SECRET,
    )
    response = console(world.owner_a).post(f"{HANDLERS}add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    handler = InboundHandler.objects.get(name="Partner")
    assert handler.tenant == world.a
    assert handler.secret == SECRET
    assert [p["name"] for p in handler.parameters] == ["contact.email", "age"]
    assert handler.parameters[1]["type"] == "integer"
    assert json.loads(handler.json_template) == {"contact": {"email": "a@b.co"}, "age": 3}


def test_console_form_reports_invalid_conditions_and_keeps_the_secret(world):
    handler = InboundHandlerFactory(tenant=world.a, secret=SECRET, name="Signed")
    url = f"{HANDLERS}{handler.pk}/change/"
    client = console(world.owner_a)
    page = client.get(url).content.decode()
    assert SECRET not in page
    bad = form_data(name="Signed", conditions='{"all": [{"field": "x", "op": "resembles"}]}')
    response = client.post(url, bad)
    assert response.status_code == 200
    assert "resembles" in response.content.decode()
    response = client.post(url, form_data(name="Signed again"))
    assert response.status_code == 302
    handler.refresh_from_db()
    assert handler.name == "Signed again"
    assert handler.secret == SECRET
    client.post(url, form_data(name="Signed again", clear_secret="on"))
    handler.refresh_from_db()
    assert handler.secret == ""


def test_console_form_refuses_another_tenants_endpoint_in_actions(world):
    from tests.factories import EndpointFactory

    foreign = EndpointFactory(tenant=world.b)
    response = console(world.owner_a).post(
        f"{HANDLERS}add/",
        form_data(actions=json.dumps([{"type": "deliver", "endpoint": foreign.pk}])),
    )
    assert response.status_code == 200
    assert f"Endpoint {foreign.pk} not found" in response.content.decode()
    assert not InboundHandler.objects.exists()


def test_viewer_sees_but_cannot_change(world):
    handler = InboundHandlerFactory(tenant=world.a)
    client = console(world.viewer_a)
    assert client.get(HANDLERS).status_code == 200
    assert client.get(calls_page(handler)).status_code == 200
    response = client.post(f"{HANDLERS}{handler.pk}/change/", form_data(name="Hijacked"))
    assert response.status_code == 403
    handler.refresh_from_db()
    assert handler.name != "Hijacked"


def test_calls_page_filters_and_orders_newest_first(world, make_handler, hooks):
    handler = make_handler()
    hooks.post(handler, {"contact": {"email": "first@example.com"}})
    hooks.post(handler, b"{broken")
    hooks.post(handler, {"contact": {"email": "third@example.com"}})
    client = console(world.owner_a)
    calls = list(InboundCall.objects.order_by("id"))
    page = client.get(calls_page(handler)).content.decode()
    links = [f"/calls/{call.pk}/" for call in calls]
    assert page.index(links[2]) < page.index(links[1]) < page.index(links[0])
    errors = client.get(calls_page(handler), {"status": "error"}).content.decode()
    assert links[1] in errors
    assert links[0] not in errors
    gets = client.get(calls_page(handler), {"method": "GET"}).content.decode()
    assert "No calls in this time frame" in gets


def test_calls_page_time_frames(world, make_handler, hooks):
    handler = make_handler()
    hooks.post(handler, {"contact": {"email": "recent@example.com"}})
    hooks.post(handler, {"contact": {"email": "older@example.com"}})
    older = InboundCall.objects.order_by("id").last()
    InboundCall.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    client = console(world.owner_a)
    link = f"/calls/{older.pk}/"
    assert link in client.get(calls_page(handler)).content.decode()
    assert link not in client.get(calls_page(handler), {"timeframe": "24h"}).content.decode()
    assert link in client.get(calls_page(handler), {"timeframe": "30d"}).content.decode()


def test_calls_page_paginates(world, make_handler):
    handler = make_handler()
    for _ in range(55):
        InboundCall.objects.create(tenant=world.a, handler=handler, method="POST", status="error")
    client = console(world.owner_a)
    first = client.get(calls_page(handler)).content.decode()
    assert "page 1 of 2" in first
    second = client.get(calls_page(handler), {"page": 2}).content.decode()
    assert "page 2 of 2" in second


def test_call_page_shows_form_and_raw_views(world, make_handler, hooks):
    handler = make_handler(body_type="form")
    hooks.post(
        handler,
        "contact.email=ada%40example.com&first=Ada",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION="Bearer leaked-token",
    )
    call = InboundCall.objects.get()
    page = console(world.owner_a).get(f"{calls_page(handler)}{call.pk}/").content.decode()
    assert "Form view" in page and "Raw view" in page
    assert "<code>contact.email</code></td><td>ada@example.com</td>" in page
    assert "contact.email=ada%40example.com&amp;first=Ada" in page
    assert "leaked-token" not in page
    assert f"/console/leads/lead/{call.lead_id}/change/" in page


def test_instructions_page_shows_url_parameters_and_curl(world, make_handler):
    handler = make_handler(secret=SECRET)
    page = (
        console(world.owner_a)
        .get(f"/console/x/inbound/handlers/{handler.pk}/instructions/")
        .content.decode()
    )
    assert f"http://testserver/hooks/{handler.token}" in page
    assert "contact.email" in page
    assert "curl" in page
    assert "webhook-signature" in page
    assert SECRET not in page


def test_other_tenants_pages_are_404(world):
    handler = InboundHandlerFactory(tenant=world.b)
    call = InboundCall.objects.create(
        tenant=world.b, handler=handler, method="POST", status="error"
    )
    client = console(world.owner_a)
    assert client.get(f"{HANDLERS}{handler.pk}/change/").status_code == 404
    assert client.get(calls_page(handler)).status_code == 404
    assert client.get(f"{calls_page(handler)}{call.pk}/").status_code == 404
    assert client.get(f"/console/x/inbound/handlers/{handler.pk}/instructions/").status_code == 404


def test_console_pages_need_a_member(world):
    handler = InboundHandlerFactory(tenant=world.a)
    response = Client().get(calls_page(handler))
    assert response.status_code == 302
    assert "/console/login/" in response["Location"]
    assert console(world.outsider).get(calls_page(handler)).status_code == 302
