"""Routing on PostgreSQL: broadcast, waterfall, pipeline, caps, direct sends, the trace.

Delivery outcomes are set by the test and handed to ``follow_up`` directly, as the engine does
inside the transaction that records them.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction

from deliveries import routing
from deliveries.models import CapCounter, Delivery, Status, Step
from deliveries.routing import follow_up, route_lead
from leads.models import LeadStatus
from leads.services import ensure_standard_fields, store_lead
from tests.factories import CampaignFactory, EndpointFactory, TenantFactory

pytestmark = pytest.mark.django_db

TX_LEAD = {"first_name": "Ada", "email": "ada@example.com", "state": "TX", "zip_code": "75001"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    routing._compiled.clear()
    yield
    cache.clear()


@pytest.fixture
def tenant():
    tenant = TenantFactory()
    ensure_standard_fields(tenant)
    return tenant


def endpoint(tenant, name, priority=100, **kwargs):
    return EndpointFactory(tenant=tenant, name=name, priority=priority, **kwargs)


def trace(lead):
    lead.refresh_from_db()
    return [(e["name"], e["step"], e["decision"], e["reason"]) for e in lead.routing]


def pending(lead):
    return list(
        Delivery.objects.filter(lead=lead, status=Status.PENDING)
        .order_by("id")
        .values_list("endpoint__name", "step")
    )


def finish(delivery, status, reason="", captured=None):
    """Record a final state as the engine would, then run the follow-up in its transaction."""
    delivery.refresh_from_db()
    delivery.status = status
    delivery.last_error = reason
    delivery.captured = captured or {}
    delivery.next_attempt_at = None
    with transaction.atomic():
        delivery.save()
        return follow_up([delivery])


def delivery_to(lead, name):
    return Delivery.objects.get(lead=lead, endpoint__name=name)


# --- broadcast and the trace ---------------------------------------------------------------


def test_broadcast_writes_a_pending_delivery_for_each_matching_endpoint(
    tenant, django_capture_on_commit_callbacks
):
    endpoint(tenant, "Solar CRM", 10)
    endpoint(tenant, "West only", 20, filters={"field": "state", "op": "in", "value": ["CA"]})
    endpoint(tenant, "Paused", 30, active=False)
    endpoint(tenant, "Dialer", 40, category="dialer")
    with django_capture_on_commit_callbacks() as callbacks:
        lead = store_lead(tenant, None, TX_LEAD)
    assert pending(lead) == [("Solar CRM", "distribution"), ("Dialer", "distribution")]
    assert trace(lead) == [
        ("Solar CRM", "distribution", "matched", "matched"),
        ("West only", "distribution", "skipped", "filter: state not in [CA] (is TX)"),
        ("Paused", "distribution", "skipped", "endpoint inactive"),
        ("Dialer", "distribution", "matched", "matched"),
    ]
    assert lead.status == LeadStatus.ROUTED
    assert all(d.next_attempt_at is not None for d in Delivery.objects.filter(lead=lead))
    assert callbacks, "the dispatcher is woken on commit"


def test_every_skip_reason_reads_as_a_human_sentence(tenant):
    endpoint(tenant, "Geo", 1, geo={"states_exclude": ["TX"]})
    endpoint(tenant, "Zip", 2, geo={"zips_include": ["941"]})
    endpoint(
        tenant,
        "Office",
        3,
        schedule={
            "timezone": "America/New_York",
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
            ],
        },
    )
    endpoint(tenant, "Full", 4, caps={"daily": 0})
    endpoint(tenant, "Broken", 5, filters={"field": "state", "op": "like", "value": "TX"})
    with time_machine.travel(dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC)):  # Saturday
        lead = store_lead(tenant, None, TX_LEAD)
    reasons = [r for _, _, _, r in trace(lead)]
    assert reasons == [
        "geo: state TX excluded",
        "geo: ZIP 75001 not in included ZIPs [941]",
        "outside schedule Mon–Fri 09:00–17:00 America/New_York",
        "cap reached: daily 0",
        "filter invalid: unknown op 'like' for field 'state' (use one of: eq, ne, in, not_in, "
        "contains, not_contains, starts_with, ends_with, regex, empty, not_empty, exists, gt, "
        "gte, lt, lte, between).",
    ]
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (LeadStatus.UNSOLD, "no endpoint matched")
    assert not Delivery.objects.filter(lead=lead).exists()


def test_schedule_window_open_lets_the_lead_through(tenant):
    endpoint(
        tenant,
        "Office",
        schedule={
            "timezone": "America/New_York",
            "windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}],
        },
    )
    with time_machine.travel(dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.UTC)):  # Mon 09:30 EDT
        lead = store_lead(tenant, None, TX_LEAD)
    assert pending(lead) == [("Office", "distribution")]


def test_endpoints_serve_their_campaigns_or_every_campaign_when_none(tenant):
    solar = CampaignFactory(tenant=tenant, name="Solar")
    roofing = CampaignFactory(tenant=tenant, name="Roofing")
    endpoint(tenant, "Everyone")
    endpoint(tenant, "Solar buyer").campaigns.add(solar)
    endpoint(tenant, "Roofing buyer").campaigns.add(roofing)
    other = TenantFactory()
    EndpointFactory(tenant=other, name="Other tenant")
    lead = store_lead(tenant, solar, TX_LEAD)
    assert pending(lead) == [("Everyone", "distribution"), ("Solar buyer", "distribution")]
    assert [name for name, *_ in trace(lead)] == ["Everyone", "Solar buyer"]
    no_campaign = store_lead(tenant, None, TX_LEAD)
    assert pending(no_campaign) == [("Everyone", "distribution")]


def test_broadcast_outcomes_settle_the_lead_status(tenant):
    endpoint(tenant, "A", 1)
    endpoint(tenant, "B", 2)
    lead = store_lead(tenant, None, TX_LEAD)
    assert finish(delivery_to(lead, "A"), Status.REJECTED, "duplicate") == []
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ROUTED  # B still open
    finish(delivery_to(lead, "B"), Status.ACCEPTED)
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (LeadStatus.SOLD, "accepted by B")
    assert trace(lead)[-2:] == [
        ("A", "distribution", "rejected", "duplicate"),
        ("B", "distribution", "accepted", "accepted"),
    ]


def test_lead_is_unsold_when_every_buyer_declines(tenant):
    endpoint(tenant, "A", 1)
    endpoint(tenant, "B", 2)
    lead = store_lead(tenant, None, TX_LEAD)
    finish(delivery_to(lead, "A"), Status.REJECTED, "no coverage")
    finish(delivery_to(lead, "B"), Status.FAILED, "HTTP 503")
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (LeadStatus.UNSOLD, "no buyer accepted")


def test_inactive_campaign_routes_nothing(tenant):
    campaign = CampaignFactory(tenant=tenant, active=False)
    endpoint(tenant, "A")
    lead = store_lead(tenant, campaign, TX_LEAD)
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (LeadStatus.UNSOLD, "campaign inactive")
    assert not Delivery.objects.filter(lead=lead).exists()


def test_distribute_false_writes_nothing(tenant):
    endpoint(tenant, "A")
    lead = store_lead(tenant, None, TX_LEAD, distribute=False)
    lead.refresh_from_db()
    assert lead.routing == []
    assert lead.status == LeadStatus.NEW
    assert not Delivery.objects.filter(lead=lead).exists()


def test_storing_an_already_distributed_lead_again_does_not_sell_it_twice(tenant):
    endpoint(tenant, "A")
    lead = store_lead(tenant, None, TX_LEAD)
    again = store_lead(tenant, None, {"first_name": "Ada B."}, lead=lead)
    assert Delivery.objects.filter(lead=again).count() == 1


def test_an_unsold_lead_is_routed_when_it_is_stored_again_with_matching_data(tenant):
    endpoint(tenant, "West", filters={"field": "state", "op": "eq", "value": "CA"})
    lead = store_lead(tenant, None, TX_LEAD)
    assert pending(lead) == []
    store_lead(tenant, None, {"state": "CA"}, lead=lead)
    assert pending(lead) == [("West", "distribution")]


# --- waterfall -----------------------------------------------------------------------------


@pytest.fixture
def waterfall(tenant):
    return CampaignFactory(tenant=tenant, distribution="waterfall")


def test_waterfall_offers_the_lead_to_one_buyer_at_a_time(tenant, waterfall):
    endpoint(tenant, "First", 1)
    endpoint(tenant, "Second", 2)
    endpoint(tenant, "Third", 3)
    lead = store_lead(tenant, waterfall, TX_LEAD)
    assert pending(lead) == [("First", "distribution")]

    created = finish(delivery_to(lead, "First"), Status.REJECTED, "over capacity")
    assert [d.endpoint.name for d in created] == ["Second"]
    assert pending(lead) == [("Second", "distribution")]

    assert finish(delivery_to(lead, "Second"), Status.ACCEPTED) == []
    assert pending(lead) == []
    assert not Delivery.objects.filter(lead=lead, endpoint__name="Third").exists()
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (LeadStatus.SOLD, "accepted by Second")
    assert trace(lead) == [
        ("First", "distribution", "matched", "matched"),
        ("First", "distribution", "rejected", "over capacity"),
        ("Second", "distribution", "matched", "matched"),
        ("Second", "distribution", "accepted", "accepted"),
    ]


def test_waterfall_moves_on_after_a_final_failure_and_ends_unsold(tenant, waterfall):
    endpoint(tenant, "First", 1)
    endpoint(tenant, "Second", 2)
    lead = store_lead(tenant, waterfall, TX_LEAD)
    finish(delivery_to(lead, "First"), Status.FAILED, "timed out after 3 attempts")
    assert pending(lead) == [("Second", "distribution")]
    finish(delivery_to(lead, "Second"), Status.REJECTED, "duplicate")
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (LeadStatus.UNSOLD, "no buyer accepted")


def test_waterfall_skips_buyers_that_do_not_match_when_falling_through(tenant, waterfall):
    endpoint(tenant, "First", 1)
    endpoint(tenant, "CA only", 2, filters={"field": "state", "op": "eq", "value": "CA"})
    endpoint(tenant, "Last", 3)
    lead = store_lead(tenant, waterfall, TX_LEAD)
    finish(delivery_to(lead, "First"), Status.REJECTED, "no")
    assert pending(lead) == [("Last", "distribution")]
    assert ("CA only", "distribution", "skipped", "filter: state is not CA (is TX)") in trace(lead)


def test_waterfall_routes_past_a_capped_buyer(tenant, waterfall):
    endpoint(tenant, "Capped", 1, caps={"daily": 1})
    endpoint(tenant, "Backup", 2)
    first = store_lead(tenant, waterfall, TX_LEAD)
    second = store_lead(tenant, waterfall, TX_LEAD)
    assert pending(first) == [("Capped", "distribution")]
    assert pending(second) == [("Backup", "distribution")]
    assert trace(second)[0] == ("Capped", "distribution", "skipped", "cap reached: daily 1")


# --- caps ----------------------------------------------------------------------------------


def test_cap_reservation_is_released_when_the_delivery_is_not_accepted(tenant):
    capped = endpoint(tenant, "Capped", caps={"daily": 1, "monthly": 10})
    first = store_lead(tenant, None, TX_LEAD)
    periods = delivery_to(first, "Capped").cap_periods
    assert [p[:2] for p in periods] == ["d:", "m:"]
    assert sorted(CapCounter.objects.filter(endpoint=capped).values_list("count", flat=True)) == [
        1,
        1,
    ]
    assert pending(store_lead(tenant, None, TX_LEAD)) == []  # full

    finish(delivery_to(first, "Capped"), Status.REJECTED, "no")
    assert set(CapCounter.objects.filter(endpoint=capped).values_list("count", flat=True)) == {0}
    assert delivery_to(first, "Capped").cap_periods == []
    third = store_lead(tenant, None, TX_LEAD)
    assert pending(third) == [("Capped", "distribution")]


def test_accepted_deliveries_keep_their_cap_count(tenant):
    capped = endpoint(tenant, "Capped", caps={"daily": 2})
    lead = store_lead(tenant, None, TX_LEAD)
    finish(delivery_to(lead, "Capped"), Status.ACCEPTED)
    assert CapCounter.objects.get(endpoint=capped).count == 1


def test_a_full_period_gives_back_the_other_periods_it_reserved(tenant):
    capped = endpoint(tenant, "Capped", caps={"daily": 5, "weekly": 1})
    store_lead(tenant, None, TX_LEAD)
    lead = store_lead(tenant, None, TX_LEAD)
    assert trace(lead)[0][3] == "cap reached: weekly 1"
    counts = dict(CapCounter.objects.filter(endpoint=capped).values_list("period", "count"))
    assert sorted(counts.values()) == [1, 1]  # the second lead's daily unit was given back


def test_caps_count_in_the_schedule_time_zone(tenant):
    capped = endpoint(
        tenant, "Capped", caps={"daily": 1}, schedule={"timezone": "America/New_York"}
    )
    with time_machine.travel(dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)):
        store_lead(tenant, None, TX_LEAD)
    assert CapCounter.objects.get(endpoint=capped).period == "d:2026-12-06"
    with time_machine.travel(dt.datetime(2026, 12, 7, 4, 59, tzinfo=dt.UTC)):  # 23:59 NY
        assert pending(store_lead(tenant, None, TX_LEAD)) == []
    with time_machine.travel(dt.datetime(2026, 12, 7, 5, 0, tzinfo=dt.UTC)):  # next NY day
        assert pending(store_lead(tenant, None, TX_LEAD)) == [("Capped", "distribution")]


def test_follow_up_twice_releases_and_records_once(tenant):
    capped = endpoint(tenant, "Capped", caps={"daily": 3})
    store_lead(tenant, None, TX_LEAD)
    lead = store_lead(tenant, None, TX_LEAD)
    delivery = delivery_to(lead, "Capped")
    finish(delivery, Status.REJECTED, "no")
    with transaction.atomic():
        follow_up([delivery])
    assert CapCounter.objects.get(endpoint=capped).count == 1
    assert [d for _, _, d, _ in trace(lead)].count("rejected") == 1


# --- pipeline ------------------------------------------------------------------------------


@pytest.fixture
def pipeline(tenant):
    endpoint(tenant, "Enrich", 1, category="enrichment")
    endpoint(tenant, "TCPA check", 2, category="compliance")
    endpoint(tenant, "Rich buyer", 3, filters={"field": "income", "op": "gt", "value": 50000})
    endpoint(tenant, "Any buyer", 4)


def test_pipeline_steps_run_one_at_a_time_before_distribution(tenant, pipeline):
    lead = store_lead(tenant, None, TX_LEAD)
    assert pending(lead) == [("Enrich", "pipeline")]

    finish(delivery_to(lead, "Enrich"), Status.ACCEPTED, captured={"income": "64000"})
    lead.refresh_from_db()
    assert lead.fields["income"] == "64000"
    assert pending(lead) == [("TCPA check", "pipeline")]

    finish(delivery_to(lead, "TCPA check"), Status.ACCEPTED)
    assert pending(lead) == [("Rich buyer", "distribution"), ("Any buyer", "distribution")]
    assert lead.status == LeadStatus.ROUTED


def test_enrichment_capture_is_seen_by_later_filters_and_indexed(tenant, pipeline):
    lead = store_lead(tenant, None, {**TX_LEAD, "email": ""})
    finish(
        delivery_to(lead, "Enrich"),
        Status.ACCEPTED,
        captured={"income": "12000", "email": "ADA@Example.COM", "phone": "not a phone"},
    )
    finish(delivery_to(lead, "TCPA check"), Status.ACCEPTED)
    lead.refresh_from_db()
    assert lead.email == "ada@example.com"  # normalised and copied to the indexed column
    assert "phone" not in lead.fields  # an invalid capture is kept out
    assert pending(lead) == [("Any buyer", "distribution")]
    assert ("Rich buyer", "distribution", "skipped", "filter: income not > 50000 (is 12000)") in (
        trace(lead)
    )
    enrich_outcome = next(e for e in trace(lead) if e[2] == "accepted")
    assert enrich_outcome[3] == "accepted; invalid captured values ignored: phone"


def test_compliance_rejection_stops_distribution(tenant, pipeline):
    lead = store_lead(tenant, None, TX_LEAD)
    finish(delivery_to(lead, "Enrich"), Status.ACCEPTED)
    assert finish(delivery_to(lead, "TCPA check"), Status.REJECTED, "number on DNC list") == []
    lead.refresh_from_db()
    assert lead.status == LeadStatus.REJECTED
    assert lead.status_reason == "compliance: TCPA check: number on DNC list"
    assert not Delivery.objects.filter(lead=lead, step=Step.DISTRIBUTION).exists()
    # Stored again later, a rejected lead stays out of distribution.
    store_lead(tenant, None, {"first_name": "Ada"}, lead=lead)
    assert not Delivery.objects.filter(lead=lead, step=Step.DISTRIBUTION).exists()


def test_compliance_failure_also_stops_distribution(tenant, pipeline):
    lead = store_lead(tenant, None, TX_LEAD)
    finish(delivery_to(lead, "Enrich"), Status.ACCEPTED)
    finish(delivery_to(lead, "TCPA check"), Status.FAILED, "HTTP 502")
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (
        LeadStatus.REJECTED,
        "compliance: TCPA check: HTTP 502",
    )


def test_enrichment_failure_does_not_stop_the_lead(tenant, pipeline):
    lead = store_lead(tenant, None, TX_LEAD)
    finish(delivery_to(lead, "Enrich"), Status.FAILED, "timeout")
    assert pending(lead) == [("TCPA check", "pipeline")]


def test_pipeline_steps_that_do_not_match_are_passed_over(tenant):
    endpoint(
        tenant,
        "Enrich CA",
        1,
        category="enrichment",
        filters={"field": "state", "op": "eq", "value": "CA"},
    )
    endpoint(tenant, "Buyer", 2)
    lead = store_lead(tenant, None, TX_LEAD)
    assert pending(lead) == [("Buyer", "distribution")]
    assert trace(lead)[0] == ("Enrich CA", "pipeline", "skipped", "filter: state is not CA (is TX)")


# --- direct sends --------------------------------------------------------------------------


def test_direct_delivery_ignores_filters_and_caps_but_not_inactive(tenant):
    picky = endpoint(
        tenant, "Picky", filters={"field": "state", "op": "eq", "value": "CA"}, caps={"daily": 0}
    )
    paused = endpoint(tenant, "Paused", active=False)
    endpoint(tenant, "Not asked")
    lead = store_lead(
        tenant, None, TX_LEAD, distribute=False, only_endpoints=[picky.pk, paused.pk, 999999]
    )
    assert pending(lead) == [("Picky", "direct")]
    assert trace(lead) == [
        ("Picky", "direct", "matched", "direct delivery"),
        ("Paused", "direct", "skipped", "endpoint inactive"),
        ("#999999", "direct", "skipped", "no such endpoint"),
    ]
    assert not CapCounter.objects.exists()
    finish(delivery_to(lead, "Picky"), Status.ACCEPTED)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD


def test_direct_delivery_never_reaches_another_tenants_endpoint(tenant):
    foreign = EndpointFactory(tenant=TenantFactory(), name="Foreign")
    lead = store_lead(tenant, None, TX_LEAD, distribute=False, only_endpoints=[foreign.pk])
    assert pending(lead) == []
    assert trace(lead) == [(f"#{foreign.pk}", "direct", "skipped", "no such endpoint")]


# --- config cache and query budget ---------------------------------------------------------


def test_endpoint_changes_reach_routing_at_once(tenant):
    ep = endpoint(tenant, "A")
    assert pending(store_lead(tenant, None, TX_LEAD)) == [("A", "distribution")]
    ep.active = False
    ep.save()
    assert pending(store_lead(tenant, None, TX_LEAD)) == []
    ep.active = True
    ep.save()
    solar = CampaignFactory(tenant=tenant)
    ep.campaigns.add(CampaignFactory(tenant=tenant))
    assert pending(store_lead(tenant, solar, TX_LEAD)) == []  # now scoped to another campaign
    ep.campaigns.add(solar)
    assert pending(store_lead(tenant, solar, TX_LEAD)) == [("A", "distribution")]
    solar.distribution = "waterfall"
    solar.save()
    endpoint(tenant, "B").campaigns.add(solar)
    assert pending(store_lead(tenant, solar, TX_LEAD)) == [("A", "distribution")]


def test_routing_a_lead_takes_a_few_queries(tenant, django_assert_max_num_queries):
    for i in range(10):
        endpoint(tenant, f"E{i}", i, filters={"field": "state", "op": "ne", "value": "CA"})
    store_lead(tenant, None, TX_LEAD)  # warms the config cache
    lead = store_lead(tenant, None, TX_LEAD, distribute=False)
    lead.routing, lead.status = [], LeadStatus.NEW
    # insert deliveries, update the lead, NOTIFY
    with django_assert_max_num_queries(3):
        written = route_lead(lead)
    assert len(written) == 10


def test_follow_up_of_a_batch_does_not_query_per_delivery(tenant, django_assert_max_num_queries):
    campaign = CampaignFactory(tenant=tenant, distribution="waterfall")
    endpoint(tenant, "First", 1, caps={"daily": 100})
    endpoint(tenant, "Second", 2)
    leads = [store_lead(tenant, campaign, TX_LEAD) for _ in range(20)]
    batch = list(Delivery.objects.filter(lead__in=leads))
    for d in batch:
        d.status, d.last_error = Status.REJECTED, "no"
    Delivery.objects.bulk_update(batch, ["status", "last_error"])
    with django_assert_max_num_queries(10), transaction.atomic():
        created = follow_up(batch)
    assert len(created) == 20
    assert all(pending(lead) == [("Second", "distribution")] for lead in leads)


def test_lead_api_shows_the_routing_trace(world):
    ensure_standard_fields(world.a)
    EndpointFactory(
        tenant=world.a, name="West", filters={"field": "state", "op": "eq", "value": "CA"}
    )
    response = world.api_a.post("/api/v1/leads/", {"fields": TX_LEAD}, format="json")
    assert response.status_code == 201, response.content
    detail = world.api_a.get(f"/api/v1/leads/{response.json()['id']}/").json()
    assert [(e["name"], e["decision"], e["reason"]) for e in detail["routing"]] == [
        ("West", "skipped", "filter: state is not CA (is TX)")
    ]
    assert detail["status"] == "unsold"
