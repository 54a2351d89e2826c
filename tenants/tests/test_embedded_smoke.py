"""The embedded demo: ``rundemo`` sets up a working tenant, and ``make run``'s process delivers."""

from __future__ import annotations

import httpx
import pytest
from django.core.management import call_command

from endpoints.models import Endpoint
from inbound.models import InboundHandler
from sandbox.models import RequestBin
from sandbox.testing import DemoServer
from tenants.management.commands.rundemo import DEMO_LOGIN, local_base_url
from tenants.models import ApiKey, Membership, Role, Tenant


def _run_setup(capsys, *args: str) -> dict:
    import json

    call_command("rundemo", "--no-serve", "--json", *args)
    first_line = capsys.readouterr().out.splitlines()[0]
    return json.loads(first_line)


@pytest.mark.django_db
def test_demo_setup_is_reused_on_a_second_run_with_fresh_credentials(capsys):
    first = _run_setup(capsys)
    second = _run_setup(capsys)

    assert Tenant.objects.filter(slug="demo").count() == 1
    for key in ("campaign", "endpoint", "request_bin", "inbound_handler", "hook_url"):
        assert first[key] == second[key], key
    assert first["api_key"] != second["api_key"]
    assert ApiKey.authenticate(second["api_key"]) is not None
    assert first["password"] != second["password"]
    membership = Membership.objects.select_related("user").get(user__username=DEMO_LOGIN)
    assert membership.role == Role.OWNER
    assert membership.user.check_password(second["password"])


@pytest.mark.django_db
def test_demo_endpoint_delivers_to_the_demo_bin_on_the_served_port(capsys):
    info = _run_setup(capsys, "--port", "8123")
    endpoint = Endpoint.objects.get(pk=info["endpoint"])
    bin = RequestBin.objects.get(pk=info["request_bin"])
    assert endpoint.url == endpoint.sandbox_url == f"http://127.0.0.1:8123{bin.path}"
    assert list(endpoint.campaigns.values_list("pk", flat=True)) == [info["campaign"]]
    handler = InboundHandler.objects.get(pk=info["inbound_handler"])
    assert handler.campaign_id == info["campaign"]
    assert {m["lead_field"] for m in handler.mappings} >= {"first_name", "phone", "email"}

    moved = _run_setup(capsys, "--port", "9001")
    endpoint.refresh_from_db()
    assert moved["endpoint"] == endpoint.pk
    assert endpoint.url == f"http://127.0.0.1:9001{bin.path}"


def test_local_base_url_reaches_a_wildcard_address_through_loopback():
    assert local_base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert local_base_url("::1", 8001) == "http://[::1]:8001"


def test_embedded_demo_serves_and_delivers_a_lead_to_its_request_bin():
    """`make run` in miniature: a subprocess on a fresh SQLite file, no Redis."""
    with DemoServer() as demo, demo.api() as api:
        info = demo.info
        response = api.post(
            "/leads/",
            json={
                "campaign": info["campaign"],
                "fields": {"first_name": "Grace", "phone": "(202) 555-0143"},
            },
        )
        assert response.status_code == 201, response.text
        lead_id = response.json()["id"]

        def delivery_final():
            deliveries = api.get(f"/leads/{lead_id}/").json()["deliveries"]
            if deliveries and deliveries[0]["status"] not in ("pending", "retrying"):
                return deliveries[0]
            return None

        delivery = demo.wait_for(delivery_final, timeout=45, what="the demo delivery")
        assert delivery["endpoint"] == info["endpoint"]
        assert delivery["status"] == "accepted", (delivery, demo.log()[-3000:])
        received = api.get(f"/request-bins/{info['request_bin']}/requests/").json()
        assert received["count"] == 1
        assert "Grace" in received["results"][0]["body"]
        assert received["results"][0]["headers"].get("Idempotency-Key")
        hook = httpx.post(info["hook_url"], json=info["sample_body"], timeout=15)
        assert hook.status_code == 201, hook.text
