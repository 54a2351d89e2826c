"""Today's numbers for the console's front page, in five cheap, index-backed queries.

"Today" is the tenant's day. Counts: leads received, deliveries created today by status,
call attempts (not tests) by outcome, inbound calls by status, and the endpoints with the worst
error + rejection rate today.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Count

from .models import CallLog, InboundCall, InboundStatus, Outcome
from .zones import day_bounds, local_today, tenant_zone

WORST_ENDPOINTS = 5


@dataclass
class EndpointToday:
    id: int
    name: str
    total: int
    accepted: int
    rejected: int
    errors: int

    @property
    def failure_rate(self) -> float:
        return (self.rejected + self.errors) / self.total if self.total else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0

    @property
    def rejection_rate(self) -> float:
        return self.rejected / self.total if self.total else 0.0


@dataclass
class Today:
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    leads: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    inbound: dict[str, int] = field(default_factory=dict)
    worst: list[EndpointToday] = field(default_factory=list)

    @property
    def calls_total(self) -> int:
        return sum(self.calls.values())

    @property
    def inbound_total(self) -> int:
        return sum(self.inbound.values())

    @property
    def deliveries_total(self) -> int:
        return sum(self.deliveries.values())


def today_summary(tenant, *, now: dt.datetime | None = None) -> Today:
    """Today's volume for ``tenant``."""
    zone = tenant_zone(tenant)
    day = local_today(zone, now)
    start, end = day_bounds(day, day, zone)
    today = Today(day=day, start=start, end=end)
    window = {"created_at__gte": start, "created_at__lt": end}

    Lead = apps.get_model("leads", "Lead")
    today.leads = Lead.objects.for_tenant(tenant).filter(**window).count()

    Delivery = apps.get_model("deliveries", "Delivery")
    statuses = [value for value, _ in Delivery._meta.get_field("status").choices]
    # status IN (…) lets PostgreSQL walk (tenant, status, created_at) once per status.
    today.deliveries = dict(
        Delivery.objects.for_tenant(tenant)
        .filter(status__in=statuses, **window)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )

    per_endpoint: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        CallLog.objects.for_tenant(tenant)
        .filter(test=False, **window)
        .order_by()
        .values_list("endpoint_id", "outcome")
        .annotate(n=Count("id"))
    )
    for endpoint_id, outcome, count in rows:
        today.calls[outcome] = today.calls.get(outcome, 0) + count
        if endpoint_id is not None:
            per_endpoint[endpoint_id][outcome] = count

    today.inbound = dict(
        InboundCall.objects.for_tenant(tenant)
        .filter(**window)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    today.worst = _worst_endpoints(tenant, per_endpoint)
    return today


def _worst_endpoints(tenant, per_endpoint: dict[int, dict[str, int]]) -> list[EndpointToday]:
    candidates = [
        EndpointToday(
            id=endpoint_id,
            name="",
            total=sum(counts.values()),
            accepted=counts.get(Outcome.ACCEPTED, 0),
            rejected=counts.get(Outcome.REJECTED, 0),
            errors=counts.get(Outcome.ERROR, 0),
        )
        for endpoint_id, counts in per_endpoint.items()
    ]
    candidates = [c for c in candidates if c.rejected + c.errors]
    candidates.sort(key=lambda c: (-c.failure_rate, -c.total, c.id))
    worst = candidates[:WORST_ENDPOINTS]
    if not worst:
        return []
    Endpoint = apps.get_model("endpoints", "Endpoint")
    names = dict(
        Endpoint.objects.for_tenant(tenant)
        .filter(pk__in=[c.id for c in worst])
        .values_list("id", "name")
    )
    for candidate in worst:
        candidate.name = names.get(candidate.id, f"Endpoint {candidate.id}")
    return worst


INBOUND_ORDER = [s.value for s in InboundStatus]
OUTCOME_ORDER = [o.value for o in Outcome]


def today_links(today: Today) -> dict[str, str | None]:
    """Where each number of the front page leads (None when that page does not exist)."""
    from urllib.parse import urlencode

    from django.urls import NoReverseMatch, reverse

    def url(name: str, **params) -> str | None:
        try:
            base = reverse(f"console:{name}")
        except NoReverseMatch:
            return None
        return f"{base}?{urlencode(params)}" if params else base

    day_after = (today.day + dt.timedelta(days=1)).isoformat()
    local_day = {"created_after": today.day.isoformat(), "created_before": day_after}
    return {
        "leads": url(
            "leads_lead_changelist",
            created_at__gte=today.start.isoformat(),
            created_at__lt=today.end.isoformat(),
        ),
        "deliveries": url("deliveries_delivery_changelist"),
        "calls": url("logs_calllog_changelist", **local_day),
        "inbound": url("logs_inboundcall_changelist", **local_day),
        "calls_by_outcome": {
            outcome: url("logs_calllog_changelist", outcome=outcome, test="false", **local_day)
            for outcome in OUTCOME_ORDER
        },
        "inbound_by_status": {
            status: url("logs_inboundcall_changelist", status=status, **local_day)
            for status in INBOUND_ORDER
        },
    }
