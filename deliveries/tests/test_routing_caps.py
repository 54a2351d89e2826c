"""Caps under concurrency: leads stored at the same moment, each in its own transaction and
database connection, never exceed a cap."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection

from deliveries import routing
from deliveries.models import CapCounter, Delivery
from leads.models import Lead
from leads.services import store_lead
from tests.factories import CampaignFactory, EndpointFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
LEAD = {"first_name": "Ada", "state": "TX", "zip_code": "75001"}


def store_at_once(tenant_id: int, campaign_id: int | None, count: int) -> list[BaseException]:
    """Store ``count`` leads from ``count`` threads released together; answer their errors."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    campaign = CampaignFactory._meta.model.objects.get(pk=campaign_id) if campaign_id else None

    def work():
        try:
            barrier.wait(timeout=30)
            store_lead(tenant_id, campaign, LEAD)
        except BaseException as exc:  # report any failure to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    routing._compiled.clear()


def test_twenty_simultaneous_leads_against_a_daily_cap_of_five_make_exactly_five():
    tenant = TenantFactory()
    capped = EndpointFactory(tenant=tenant, name="Capped", caps={"daily": 5})
    assert store_at_once(tenant.pk, None, THREADS) == []
    assert Lead.objects.filter(tenant=tenant).count() == THREADS
    assert Delivery.objects.filter(endpoint=capped).count() == 5
    assert CapCounter.objects.get(endpoint=capped).count == 5
    skipped = [
        entry["reason"]
        for lead in Lead.objects.filter(tenant=tenant)
        for entry in lead.routing
        if entry["decision"] == "skipped"
    ]
    assert skipped == ["cap reached: daily 5"] * (THREADS - 5)


def test_simultaneous_waterfall_leads_overflow_to_the_next_buyer():
    tenant = TenantFactory()
    campaign = CampaignFactory(tenant=tenant, distribution="waterfall")
    capped = EndpointFactory(tenant=tenant, name="Capped", priority=1, caps={"daily": 5})
    backup = EndpointFactory(tenant=tenant, name="Backup", priority=2)
    assert store_at_once(tenant.pk, campaign.pk, THREADS) == []
    assert Delivery.objects.filter(endpoint=capped).count() == 5
    assert Delivery.objects.filter(endpoint=backup).count() == THREADS - 5
    assert all(lead.deliveries.count() == 1 for lead in Lead.objects.filter(tenant=tenant))
