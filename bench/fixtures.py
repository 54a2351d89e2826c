"""The benchmark's configuration, created through the Django ORM (call after django.setup()).

One tenant; per scenario its own campaign, inbound handler and endpoint(s), so scenarios never
see each other's deliveries:

- ingest  : handler → campaign "ingest" → endpoint ``ingest`` (sink /r/ingest)
- deliver : campaign "deliver" → endpoint ``deliver`` (deliveries inserted in bulk)
- e2e     : handler → campaign "e2e" → endpoint ``e2e``
- iso     : handler → campaign "iso" → endpoints ``iso`` (healthy) and ``iso-hang`` (hangs
            past its 30 s timeout)
- naive   : a campaign for the naive baseline view (no endpoint)

Each handler does real work on every lead: renamed parameters mapped to lead fields, a
condition, a dedupe protection period and the default "distribute" action.
"""

from __future__ import annotations

from django.db import transaction

from adaptors.models import Adaptor
from endpoints.models import Endpoint
from inbound.models import InboundHandler
from leads.models import Campaign, FieldType, LeadField
from tenants.models import Tenant

from .context import Fixture

HANDLER_PARAMETERS = [
    {"name": "bench_id", "type": "text"},
    {"name": "fname", "type": "text"},
    {"name": "lname", "type": "text"},
    {"name": "email", "type": "text"},
    {"name": "phone", "type": "text"},
    {"name": "state", "type": "text"},
    {"name": "zip", "type": "text"},
    {"name": "source", "type": "text"},
]
HANDLER_MAPPINGS = [
    {"parameter": "bench_id", "lead_field": "bench_id"},
    {"parameter": "fname", "lead_field": "first_name"},
    {"parameter": "lname", "lead_field": "last_name"},
    {"parameter": "email", "lead_field": "email"},
    {"parameter": "phone", "lead_field": "phone"},
    {"parameter": "state", "lead_field": "state"},
    {"parameter": "zip", "lead_field": "zip_code"},
    {"parameter": "source", "lead_field": "source"},
]
HANDLER_CONDITIONS = {
    "all": [
        {"field": "email", "op": "not_empty"},
        {"field": "state", "op": "in", "value": ["CA", "NY", "TX"]},
    ]
}
ADAPTOR_MAPPINGS = [
    {"source": "bench_id", "target": "bench_id"},
    {"source": "first_name", "target": "first_name"},
    {"source": "last_name", "target": "last_name"},
    {"source": "email", "target": "email"},
    {"source": "phone", "target": "phone"},
    {"source": "state", "target": "state"},
    {"source": "zip_code", "target": "zip"},
]
PROTECTION_PERIOD_SECONDS = 300
HANG_TIMEOUT_SECONDS = 30


def create(receiver_url: str) -> Fixture:
    """Create the tenant and every scenario's campaign, handler and endpoints."""
    with transaction.atomic():
        tenant = Tenant.objects.create(slug="bench", name="Benchmark")
        LeadField.objects.get_or_create(
            tenant=tenant, name="bench_id", defaults={"label": "Bench id", "type": FieldType.TEXT}
        )
        adaptor = Adaptor.objects.create(tenant=tenant, name="bench", mappings=ADAPTOR_MAPPINGS)
        campaigns = {
            name: Campaign.objects.create(tenant=tenant, name=name).pk
            for name in ("ingest", "deliver", "e2e", "iso", "naive")
        }
        handlers = {}
        for name in ("ingest", "e2e", "iso"):
            handler = InboundHandler.objects.create(
                tenant=tenant,
                name=f"bench {name}",
                parameters=HANDLER_PARAMETERS,
                mappings=HANDLER_MAPPINGS,
                conditions=HANDLER_CONDITIONS,
                campaign_id=campaigns[name],
                protection_period_seconds=PROTECTION_PERIOD_SECONDS,
            )
            handlers[name] = handler.path
        sinks = {
            "ingest": ("ingest", f"{receiver_url}/r/ingest", 30),
            "deliver": ("deliver", f"{receiver_url}/r/deliver", 30),
            "e2e": ("e2e", f"{receiver_url}/r/e2e", 30),
            "iso": ("iso", f"{receiver_url}/r/iso", 30),
            "iso-hang": ("iso", f"{receiver_url}/hang/iso-hang", HANG_TIMEOUT_SECONDS),
        }
        endpoints = {}
        for name, (campaign, url, timeout) in sinks.items():
            endpoint = Endpoint.objects.create(
                tenant=tenant,
                name=f"bench {name}",
                url=url,
                adaptor=adaptor,
                timeout_seconds=timeout,
                retry={"max_attempts": 3, "backoff_seconds": 30},
            )
            endpoint.campaigns.set([campaigns[campaign]])
            endpoints[name] = endpoint.pk
    return Fixture(tenant_id=tenant.pk, campaigns=campaigns, handlers=handlers, endpoints=endpoints)
