"""Routing: decide which endpoints get a lead and write pending deliveries (the outbox)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from endpoints.models import Endpoint
from leads.models import Lead

from .models import Delivery, Step
from .wakeup import notify_new_deliveries


def candidate_endpoints(lead: Lead):
    qs = Endpoint.objects.filter(tenant_id=lead.tenant_id)
    if lead.campaign_id:
        qs = qs.filter(Q(campaigns__isnull=True) | Q(campaigns=lead.campaign_id)).distinct()
    else:
        qs = qs.filter(campaigns__isnull=True)
    return qs.order_by("priority", "id")


def route_lead(lead: Lead, distribute: bool = True, only_endpoints: list[int] | None = None):
    """Write a pending delivery for each matching endpoint and a routing trace on the lead."""
    now = timezone.now()
    trace = []
    deliveries = []
    if only_endpoints:
        endpoints = Endpoint.objects.filter(tenant_id=lead.tenant_id, pk__in=only_endpoints)
        step = Step.DIRECT
    elif distribute:
        endpoints = candidate_endpoints(lead)
        step = Step.DISTRIBUTION
    else:
        return []
    for endpoint in endpoints:
        if not endpoint.active:
            trace.append(_entry(endpoint, step, "skipped", "inactive"))
            continue
        trace.append(_entry(endpoint, step, "matched", "matched"))
        deliveries.append(
            Delivery(
                tenant_id=lead.tenant_id,
                lead=lead,
                endpoint=endpoint,
                step=step,
                next_attempt_at=now,
            )
        )
    Delivery.objects.bulk_create(deliveries)
    Lead.objects.filter(pk=lead.pk).update(routing=lead.routing + trace)
    lead.routing = lead.routing + trace
    if deliveries:
        notify_new_deliveries()
    return deliveries


def _entry(endpoint: Endpoint, step: str, decision: str, reason: str) -> dict:
    return {
        "endpoint": endpoint.pk,
        "name": endpoint.name,
        "step": step,
        "decision": decision,
        "reason": reason,
    }
