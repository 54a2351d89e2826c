"""Routing: which endpoints get a lead, in what order — the pending deliveries (the outbox).

A lead moves through up to two stages, decided by ``advance`` from its deliveries so far:

1. **Pipeline** — endpoints of category enrichment/compliance, one at a time in priority
   order (``Delivery.step="pipeline"``). What they capture is merged into the lead before the
   next rule is checked. A compliance step that does not end accepted stops everything: the
   lead becomes ``rejected`` with the buyer's reason. An enrichment failure is passed over.
2. **Distribution** — the other endpoints, by the campaign's ``distribution``: ``broadcast``
   writes a delivery for every matching endpoint at once; ``waterfall`` writes one for the
   first matching endpoint and, when that one ends without being accepted (rejected, failed,
   canceled), for the next one after it, until one accepts. No campaign means broadcast.

Candidates are the tenant's endpoints with no campaigns (= every campaign) or with the lead's
campaign, ordered by (priority, id). Each is checked in this order, the first failure being
the reason it is skipped: inactive, filters (``leads.conditions``), geo, schedule, caps (an
atomic reservation, ``deliveries.caps``). Every endpoint considered leaves a routing-trace
entry on the lead: ``{"endpoint", "name", "step", "decision", "reason", "at"}`` with decision
``matched`` or ``skipped``; follow-up appends the outcome of each finished delivery.

``only_endpoints`` is a direct send (an inbound "deliver" action, an operator): exactly those
endpoints of the tenant, step ``direct``, refused only when inactive — filters, geo, schedule
and caps are the distribution's business and are not applied, nor counted.

Lead status: ``routed`` while any delivery is open, ``sold`` once a distribution or direct
delivery is accepted, ``rejected`` on a compliance stop, ``unsold`` when nothing matched or
everything ended without an accept.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from endpoints.models import PIPELINE_CATEGORIES, Category, Endpoint
from endpoints.rules import Geo, Schedule, compile_geo, compile_schedule, schedule_zone
from leads import conditions
from leads.models import Campaign, Distribution, Lead, LeadStatus
from leads.normalize import normalize_fields
from leads.services import catalogue
from tenants.bulk import bulk_update_values

from . import caps
from .models import FINAL_STATUSES, OPEN_STATUSES, Delivery, Status, Step
from .wakeup import notify_new_deliveries

SELLING_STEPS = (Step.DISTRIBUTION, Step.DIRECT)
CONFIG_TTL = 30  # seconds; saves invalidate at once, the TTL covers queryset.update()
# A process re-reads the shared entry at most this often, so bursts of leads skip the cache
# round trip; a change made in another process is seen within this delay.
LOCAL_TTL = 1.0


# --- the tenant's routing config, cached ----------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One endpoint as routing sees it, with its filter compiled once."""

    id: int
    name: str
    category: str
    active: bool
    campaigns: frozenset[int]
    condition: object
    filter_error: str
    geo: Geo
    schedule: Schedule
    caps: dict
    zone: ZoneInfo

    @property
    def pipeline(self) -> bool:
        return self.category in PIPELINE_CATEGORIES


def _config_key(tenant_id: int) -> str:
    return f"routing-config:{tenant_id}"


@dataclass(frozen=True)
class _Compiled:
    token: str  # of the shared cache entry these rules were compiled from
    rules: list[Rule]
    campaigns: dict[int, dict]
    checked_at: float


# Compiled rules per tenant, reused while the shared cache entry keeps the same token.
_compiled: dict[int, _Compiled] = {}


def _drop_config(tenant_id: int) -> None:
    cache.delete(_config_key(tenant_id))
    _compiled.pop(tenant_id, None)


def forget_config(tenant_id: int) -> None:
    """Drop the tenant's cached config now and again once the current transaction commits
    (so nobody keeps rows re-read before the change was visible)."""
    _drop_config(tenant_id)
    transaction.on_commit(lambda: _drop_config(tenant_id))


def _load_config(tenant_id: int) -> dict:
    endpoints = list(
        Endpoint.objects.filter(tenant_id=tenant_id)
        .order_by("priority", "id")
        .values("id", "name", "category", "active", "filters", "geo", "schedule", "caps")
    )
    links = Endpoint.campaigns.through.objects.filter(endpoint__tenant_id=tenant_id)
    campaigns = Campaign.objects.filter(tenant_id=tenant_id).values("id", "distribution", "active")
    return {
        "token": uuid.uuid4().hex,
        "endpoints": endpoints,
        "links": list(links.values_list("endpoint_id", "campaign_id")),
        "campaigns": {c["id"]: c for c in campaigns},
    }


def _compile_rule(row: dict, campaign_ids: frozenset[int]) -> Rule:
    try:
        condition, error = conditions.compile_condition(row["filters"]), ""
    except conditions.ConditionError as exc:
        condition, error = conditions.ALWAYS, str(exc)
    return Rule(
        id=row["id"],
        name=row["name"],
        category=row["category"],
        active=row["active"],
        campaigns=campaign_ids,
        condition=condition,
        filter_error=error,
        geo=compile_geo(row["geo"]),
        schedule=compile_schedule(row["schedule"]),
        caps=row["caps"] or {},
        zone=schedule_zone(row["schedule"]),
    )


def tenant_config(tenant_id: int) -> tuple[list[Rule], dict[int, dict]]:
    """``(rules in (priority, id) order, campaigns by id)``; no query while cached."""
    now = time.monotonic()
    memo = _compiled.get(tenant_id)
    if memo is not None and now - memo.checked_at < LOCAL_TTL:
        return memo.rules, memo.campaigns
    key = _config_key(tenant_id)
    entry = cache.get(key)
    if entry is None:
        entry = _load_config(tenant_id)
        cache.set(key, entry, CONFIG_TTL)
    if memo is None or memo.token != entry["token"]:
        links: dict[int, set[int]] = {}
        for endpoint_id, campaign_id in entry["links"]:
            links.setdefault(endpoint_id, set()).add(campaign_id)
        rules = [
            _compile_rule(row, frozenset(links.get(row["id"], ()))) for row in entry["endpoints"]
        ]
        memo = _Compiled(entry["token"], rules, entry["campaigns"], now)
    if len(_compiled) > 1000:
        _compiled.clear()
    _compiled[tenant_id] = _Compiled(memo.token, memo.rules, memo.campaigns, now)
    return memo.rules, memo.campaigns


# --- deciding ------------------------------------------------------------------------------


@dataclass
class _Past:
    """One existing delivery of a lead, as routing sees it."""

    id: int | None
    endpoint_id: int
    step: str
    status: str
    reason: str = ""


@dataclass
class _Run:
    """What one routing pass decides for one lead."""

    lead: Lead
    now: dt.datetime
    past: list[_Past]
    trace: list[dict] = field(default_factory=list)
    new: list[Delivery] = field(default_factory=list)
    unsold_reason: str = "no endpoint matched"
    reserve: bool = True  # False: raise NeedsReservation instead of touching cap counters

    def note(self, rule: Rule | None, step: str, decision: str, reason: str, **extra) -> None:
        endpoint_id = extra.pop("endpoint_id", None)
        self.trace.append(
            {
                "endpoint": rule.id if rule else endpoint_id,
                "name": rule.name if rule else f"#{endpoint_id}",
                "step": str(step),
                "decision": decision,
                "reason": reason[:300],
                "at": self.now.isoformat(timespec="seconds"),
                **extra,
            }
        )

    def deliver(self, rule: Rule, step: str, reason: str, cap_periods: Iterable[str] = ()) -> None:
        self.new.append(
            Delivery(
                tenant_id=self.lead.tenant_id,
                lead=self.lead,
                endpoint_id=rule.id,
                step=step,
                next_attempt_at=self.now,
                cap_periods=list(cap_periods),
            )
        )
        self.past.append(_Past(None, rule.id, step, Status.PENDING))
        self.note(rule, step, "matched", reason)


def skip_reason(rule: Rule, fields, now: dt.datetime) -> str | None:
    """Why ``rule``'s endpoint does not take a lead with ``fields`` now; None when it does.

    Caps are not checked here: they are reserved, not read (see ``_take``).
    """
    if not rule.active:
        return "endpoint inactive"
    if rule.filter_error:
        return f"filter invalid: {rule.filter_error}"
    if not rule.condition.holds(fields):
        return "filter: " + rule.condition.describe(fields, False)
    allowed, reason = rule.geo.allows(fields)
    if not allowed:
        return reason
    allowed, reason = rule.schedule.check(now)
    if not allowed:
        return reason
    return None


class NeedsReservation(Exception):
    """A plan made with ``reserve=False`` reached an endpoint with caps: the lead has to be
    routed by ``route_lead``, whose transaction reserves them."""


def _take(run: _Run, rule: Rule, step: str) -> bool:
    """Check ``rule`` for the lead and, if it takes it, reserve caps and write the delivery."""
    reason = skip_reason(rule, run.lead.fields, run.now)
    if reason is None:
        if not run.reserve and caps.active_caps(rule.caps):
            raise NeedsReservation(rule.id)
        try:
            reserved = caps.reserve(rule.id, rule.caps, rule.zone, run.now)
        except caps.CapReached as full:
            reason = full.reason
        else:
            run.deliver(rule, step, "matched", reserved)
            return True
    run.note(rule, step, "skipped", reason)
    return False


def _resume_after(candidates: list[Rule], tried: set[int]) -> list[Rule]:
    """The candidates after the last one already tried (a strictly ordered walk)."""
    last = max((i for i, rule in enumerate(candidates) if rule.id in tried), default=-1)
    return [rule for rule in candidates[last + 1 :] if rule.id not in tried]


def advance(run: _Run, rules: list[Rule], campaigns: dict[int, dict]) -> None:
    """Take the lead's next routing step(s) given its deliveries so far (``run.past``)."""
    lead = run.lead
    if lead.status == LeadStatus.REJECTED:
        return
    campaign = campaigns.get(lead.campaign_id) if lead.campaign_id else None
    if lead.campaign_id and campaign is None:
        campaign = {"distribution": Distribution.BROADCAST, "active": True}
    if campaign is not None and not campaign["active"]:
        run.unsold_reason = "campaign inactive"
        return
    candidates = [r for r in rules if not r.campaigns or lead.campaign_id in r.campaigns]
    by_id = {r.id: r for r in rules}

    # 1. Pipeline: one step at a time; wait while one is open; stop on a compliance failure.
    pipeline_past = [p for p in run.past if p.step == Step.PIPELINE]
    if any(p.status in OPEN_STATUSES for p in pipeline_past):
        return
    for p in pipeline_past:
        rule = by_id.get(p.endpoint_id)
        if rule and rule.category == Category.COMPLIANCE and p.status != Status.ACCEPTED:
            lead.status = LeadStatus.REJECTED
            lead.status_reason = f"compliance: {rule.name}: {p.reason or p.status}"[:500]
            return
    pipeline = [r for r in candidates if r.pipeline]
    done = {p.endpoint_id for p in pipeline_past}
    for rule in _resume_after(pipeline, done):
        if _take(run, rule, Step.PIPELINE):
            return

    # 2. Distribution: broadcast once; waterfall one at a time until an accept.
    selling = [r for r in candidates if not r.pipeline]
    dist_past = [p for p in run.past if p.step == Step.DISTRIBUTION]
    already = {p.endpoint_id for p in run.past if p.step in SELLING_STEPS}
    waterfall = campaign is not None and campaign["distribution"] == Distribution.WATERFALL
    if not waterfall:
        if dist_past:
            return
        for rule in selling:
            if rule.id in already:
                run.note(rule, Step.DISTRIBUTION, "skipped", "already has a delivery")
            else:
                _take(run, rule, Step.DISTRIBUTION)
        return
    if any(p.status in (*OPEN_STATUSES, Status.ACCEPTED) for p in dist_past):
        return
    for rule in _resume_after(selling, {p.endpoint_id for p in dist_past}):
        if rule.id in already:
            run.note(rule, Step.DISTRIBUTION, "skipped", "already has a delivery")
        elif _take(run, rule, Step.DISTRIBUTION):
            return


def _direct(run: _Run, rules: list[Rule], endpoint_ids: Iterable) -> None:
    by_id = {r.id: r for r in rules}
    for raw in dict.fromkeys(endpoint_ids):
        try:
            rule = by_id.get(int(raw))
        except (TypeError, ValueError):
            rule = None
        if rule is None:
            shown = raw if isinstance(raw, int) else str(raw)[:40]
            run.note(None, Step.DIRECT, "skipped", "no such endpoint", endpoint_id=shown)
        elif not rule.active:
            run.note(rule, Step.DIRECT, "skipped", "endpoint inactive")
        else:
            run.deliver(rule, Step.DIRECT, "direct delivery")


def settle(run: _Run, names: dict[int, str]) -> None:
    """Set the lead's status from its deliveries (past and new)."""
    lead = run.lead
    if lead.status == LeadStatus.REJECTED:
        return
    selling = [p for p in run.past if p.step in SELLING_STEPS]
    accepted = next((p for p in selling if p.status == Status.ACCEPTED), None)
    if accepted is not None:
        lead.status = LeadStatus.SOLD
        lead.status_reason = f"accepted by {names.get(accepted.endpoint_id, 'an endpoint')}"
    elif any(p.status in OPEN_STATUSES for p in run.past):
        lead.status, lead.status_reason = LeadStatus.ROUTED, ""
    elif selling:
        lead.status, lead.status_reason = LeadStatus.UNSOLD, "no buyer accepted"
    else:
        lead.status, lead.status_reason = LeadStatus.UNSOLD, run.unsold_reason


def _past_of(lead_ids: Iterable[int]) -> dict[int, list[_Past]]:
    found: dict[int, list[_Past]] = {}
    rows = Delivery.objects.filter(lead_id__in=list(lead_ids)).order_by("id")
    for row in rows.values("id", "lead_id", "endpoint_id", "step", "status", "last_error"):
        past = _Past(row["id"], row["endpoint_id"], row["step"], row["status"], row["last_error"])
        found.setdefault(row["lead_id"], []).append(past)
    return found


def plan_routing(
    lead: Lead,
    distribute: bool = True,
    only_endpoints: list[int] | None = None,
    *,
    reserve: bool = True,
) -> _Run:
    """Decide the lead's routing step: the deliveries to write (``run.new``, not saved), its
    trace appended to ``lead.routing`` and its status set on ``lead``.

    Reads nothing but the cached config for a lead stored for the first time. With
    ``reserve=False`` no statement runs at all: reaching a capped endpoint raises
    ``NeedsReservation`` (the inbound batch writer then leaves the lead to ``route_lead``).
    """
    now = timezone.now()
    rules, campaigns = tenant_config(lead.tenant_id)
    # A lead stored for the first time has no deliveries yet: skip the query on the hot path.
    fresh = lead.status == LeadStatus.NEW and not lead.routing
    past = [] if fresh else _past_of([lead.pk]).get(lead.pk, [])
    run = _Run(lead, now, past, reserve=reserve)
    if only_endpoints:
        _direct(run, rules, only_endpoints)
    elif distribute:
        advance(run, rules, campaigns)
    settle(run, {r.id: r.name for r in rules})
    lead.routing = [*(lead.routing or []), *run.trace]
    return run


def route_lead(
    lead: Lead, distribute: bool = True, only_endpoints: list[int] | None = None
) -> list[Delivery]:
    """Write the lead's pending deliveries and routing trace; answer the deliveries written.

    Called inside the lead's storing transaction (``leads.signals.lead_stored``). A few
    queries: the endpoint config comes from a short-lived cache, deliveries are inserted in
    one statement, the lead's trace and status in one UPDATE, then one NOTIFY. Caps add one
    statement per capped period of a matching endpoint.
    """
    if not only_endpoints and not distribute:
        return []
    run = plan_routing(lead, distribute, only_endpoints)
    if run.new:
        Delivery.objects.bulk_create(run.new)
    Lead.objects.filter(pk=lead.pk).update(
        routing=lead.routing, status=lead.status, status_reason=lead.status_reason
    )
    if run.new:
        notify_new_deliveries()
    return run.new


def _merge_captures(lead: Lead, captured: dict) -> list[str]:
    """Merge captured values into the lead's fields, normalised by type; answer the names
    that were refused as invalid (kept out of the lead)."""
    if not isinstance(captured, dict) or not captured:
        return []
    types, _required = catalogue(lead.tenant_id)
    clean, errors = normalize_fields(captured, types)
    lead.fields = {**lead.fields, **clean}
    return sorted(errors)


def follow_up(deliveries: list[Delivery]) -> list[Delivery]:
    """Act on deliveries that reached a final state; answer the new deliveries written.

    Runs inside the transaction that recorded the states. Per batch: the affected leads are
    locked (in id order, so concurrent batches touching one lead see each other's results),
    captures merged into lead fields, cap reservations of non-accepted deliveries released,
    pipelines and waterfalls advanced, statuses settled; then one bulk insert, one bulk
    update of the leads and one NOTIFY. Safe to call twice for the same delivery.
    """
    finished = {d.pk: d for d in deliveries if d.status in FINAL_STATUSES and d.pk}
    if not finished:
        return []
    now = timezone.now()
    lead_ids = sorted({d.lead_id for d in finished.values()})
    leads = list(Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk"))
    past = _past_of(lead_ids)
    _release_caps([pk for pk, d in finished.items() if d.status != Status.ACCEPTED])

    configs: dict[int, tuple] = {}
    created: list[Delivery] = []
    for lead in leads:
        if lead.tenant_id not in configs:
            configs[lead.tenant_id] = tenant_config(lead.tenant_id)
        rules, campaigns = configs[lead.tenant_id]
        by_id = {r.id: r for r in rules}
        mine = past.get(lead.pk, [])
        for p in mine:  # what the engine just recorded wins over what this query saw
            if p.id in finished:
                p.status, p.reason = finished[p.id].status, finished[p.id].last_error
        run = _Run(lead, now, mine)
        advances = False
        seen = {(e.get("delivery"), e.get("decision")) for e in lead.routing or []}
        for d in sorted((d for d in finished.values() if d.lead_id == lead.pk), key=_pk):
            refused = _merge_captures(lead, d.captured)
            advances = advances or d.step in (Step.PIPELINE, Step.DISTRIBUTION)
            if (d.pk, d.status) in seen:
                continue
            reason = d.last_error or ("accepted" if d.status == Status.ACCEPTED else d.status)
            if refused:
                reason += f"; invalid captured values ignored: {', '.join(refused)}"
            run.note(
                by_id.get(d.endpoint_id),
                d.step,
                d.status,
                reason,
                delivery=d.pk,
                endpoint_id=d.endpoint_id,
            )
        if advances:
            advance(run, rules, campaigns)
        settle(run, {r.id: r.name for r in rules})
        lead.sync_indexed()
        lead.routing = [*(lead.routing or []), *run.trace]
        lead.updated_at = now
        created += run.new
    if created:
        Delivery.objects.bulk_create(created)
    bulk_update_values(
        Lead, leads, ["fields", *Lead.INDEXED, "routing", "status", "status_reason", "updated_at"]
    )
    if created:
        notify_new_deliveries()
    return created


def _pk(delivery: Delivery) -> int:
    return delivery.pk


def _release_caps(delivery_ids: list[int]) -> None:
    """Give back the cap reservations of these (non-accepted) deliveries, once: the recorded
    periods are cleared in the same transaction, so a second follow-up finds nothing."""
    if not delivery_ids:
        return
    rows = list(
        Delivery.objects.filter(pk__in=delivery_ids)
        .exclude(cap_periods=[])
        .values_list("id", "endpoint_id", "cap_periods")
    )
    if not rows:
        return
    caps.release((endpoint_id, period) for _, endpoint_id, periods in rows for period in periods)
    Delivery.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(cap_periods=[])
