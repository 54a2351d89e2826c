"""Ingestion while Redis is away: PostgreSQL is the source of truth, Redis only a cache and the
broker, so a lead must still be accepted (and its deliveries written) without it.

``make faults`` shows the same on the real stack (the ``redis`` scenario); here the cache points
at a port nothing listens on. The database outage (503, never a 2xx) is covered by
``inbound/tests/test_receiver.py``.
"""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import override_settings

from deliveries.models import Delivery
from endpoints.models import Endpoint
from inbound.models import InboundHandler
from leads.models import Lead
from tests.factories import AdaptorFactory, CampaignFactory


@pytest.fixture
def unreachable_cache(free_port):
    location = f"redis://127.0.0.1:{free_port}/0"
    backend = "tenants.cache.TolerantRedisCache"
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": location}}):
        yield caches["default"]


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def routed(world):
    """A campaign with one endpoint, and a JSON handler feeding it."""
    campaign = CampaignFactory(tenant=world.a)
    endpoint = Endpoint.objects.create(
        tenant=world.a,
        name="Buyer",
        url="https://buyer.example.com/leads",
        adaptor=AdaptorFactory(tenant=world.a),
    )
    endpoint.campaigns.set([campaign])
    handler = InboundHandler.objects.create(
        tenant=world.a,
        name="Web form",
        campaign=campaign,
        parameters=[{"name": "email", "type": "text"}],
        mappings=[{"parameter": "email", "lead_field": "email"}],
    )
    return campaign, endpoint, handler


def test_the_inbound_receiver_stores_leads_while_redis_is_away(world, routed, unreachable_cache):
    campaign, endpoint, handler = routed

    response = world.anonymous.post(handler.path, {"email": "away@example.com"}, format="json")

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert Delivery.objects.filter(lead=lead, endpoint=endpoint).exists()


def test_the_leads_api_stores_leads_while_redis_is_away(world, routed, unreachable_cache):
    campaign, endpoint, _handler = routed

    response = world.api_a.post(
        "/api/v1/leads/",
        {"campaign": campaign.pk, "fields": {"email": "api-away@example.com"}},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Delivery.objects.filter(lead_id=response.json()["id"], endpoint=endpoint).exists()
