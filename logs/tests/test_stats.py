import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from logs import stats
from logs.models import CallLog
from logs.tests.helpers import at, call, inbound
from tests.factories import EndpointFactory, InboundHandlerFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def stats_url(endpoint) -> str:
    return f"/api/v1/endpoints/{endpoint.pk}/stats/"


def test_percentile_interpolates_like_percentile_cont():
    assert stats.percentile(list(range(1, 101)), 0.95) == pytest.approx(95.05)
    assert stats.percentile([10], 0.95) == 10
    assert stats.percentile([10, 20], 0.95) == pytest.approx(19.5)
    assert stats.percentile([], 0.95) is None


def test_parse_period_defaults_to_the_last_seven_days():
    period = stats.parse_period(None, None, UTC, today=dt.date(2026, 3, 10))
    assert (period.first, period.last) == (dt.date(2026, 3, 4), dt.date(2026, 3, 10))
    assert len(period.days) == 7


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        ("yesterday", None, "since"),
        (None, "2026-13-01", "until"),
        ("2026-03-10", "2026-03-01", "since"),
        ("2020-01-01", "2026-01-01", "since"),
    ],
)
def test_parse_period_rejects_bad_values(since, until, field):
    with pytest.raises(stats.PeriodError) as caught:
        stats.parse_period(since, until, UTC, today=dt.date(2026, 3, 10))
    assert caught.value.field == field


def known_set(world, endpoint):
    """Ten calls on 2026-03-02 (UTC): 6 accepted, 3 rejected, 1 error; durations 10…100 ms."""
    outcomes = ["accepted"] * 6 + ["rejected"] * 3 + ["error"]
    for n, outcome in enumerate(outcomes, start=1):
        call(
            world.a,
            endpoint=endpoint,
            outcome=outcome,
            duration_ms=n * 10,
            created_at=at(2026, 3, 2, 8, n),
        )


def test_endpoint_stats_arithmetic_on_a_known_set(world):
    endpoint = EndpointFactory(tenant=world.a)
    known_set(world, endpoint)
    call(world.a, endpoint=endpoint, test=True, duration_ms=99999, created_at=at(2026, 3, 2))
    call(world.a, created_at=at(2026, 3, 2))  # another endpoint
    call(world.a, endpoint=endpoint, created_at=at(2026, 2, 20))  # outside the period
    response = world.api_a.get(stats_url(endpoint), {"since": "2026-03-01", "until": "2026-03-03"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["accepted"], body["rejected"], body["errors"]) == (10, 6, 3, 1)
    assert body["success_rate"] == 0.6
    assert body["rejection_rate"] == 0.3
    assert body["error_rate"] == 0.1
    assert body["avg_response_ms"] == 55.0
    # percentile_cont(0.95) of 10, 20, …, 100 = 95.5
    assert body["p95_response_ms"] == 95.5
    assert [d["date"] for d in body["series"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert [d["total"] for d in body["series"]] == [0, 10, 0]
    day = body["series"][1]
    assert (day["accepted"], day["rejected"], day["errors"]) == (6, 3, 1)
    assert day["p95_response_ms"] == 95.5
    assert body["series"][0]["avg_response_ms"] is None


def test_the_python_fallback_gives_the_same_p95_as_postgresql(world):
    endpoint = EndpointFactory(tenant=world.a)
    for n, duration in enumerate([7, 3, 250, 12, 12, 90, 1000, 41, 5], start=1):
        call(world.a, endpoint=endpoint, duration_ms=duration, created_at=at(2026, 3, 2, 1, n))
    period = stats.parse_period("2026-03-02", "2026-03-02", UTC)
    calls = CallLog.objects.filter(endpoint=endpoint)
    in_sql = stats.call_stats(calls, period)["p95_response_ms"]
    overall, per_day = stats._python_p95(calls, UTC)
    assert in_sql == round(overall, 1)
    assert per_day[dt.date(2026, 3, 2)] == overall


def test_days_are_the_tenants_days(world):
    world.a.timezone = "America/New_York"
    world.a.save()
    endpoint = EndpointFactory(tenant=world.a)
    call(world.a, endpoint=endpoint, created_at=at(2026, 3, 3, 2))  # 2 March, 21:00 in New York
    body = world.api_a.get(
        stats_url(endpoint), {"since": "2026-03-02", "until": "2026-03-03"}
    ).json()
    assert [d["total"] for d in body["series"]] == [1, 0]
    assert body["timezone"] == "America/New_York"


def test_no_calls_gives_zero_counts_and_no_rates(world):
    endpoint = EndpointFactory(tenant=world.a)
    body = world.api_a.get(stats_url(endpoint)).json()
    assert body["total"] == 0
    assert body["success_rate"] is None and body["p95_response_ms"] is None
    assert len(body["series"]) == 7


@time_machine.travel(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_default_period_is_the_last_seven_days_including_today(world):
    endpoint = EndpointFactory(tenant=world.a)
    call(world.a, endpoint=endpoint, created_at=at(2026, 3, 10, 1))
    call(world.a, endpoint=endpoint, created_at=at(2026, 3, 4, 1))
    call(world.a, endpoint=endpoint, created_at=at(2026, 3, 3, 23))
    body = world.api_a.get(stats_url(endpoint)).json()
    assert (body["since"], body["until"]) == ("2026-03-04", "2026-03-10")
    assert body["total"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "last week"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "since"),
    ],
)
def test_bad_period_is_a_400_naming_the_field(world, params, field):
    endpoint = EndpointFactory(tenant=world.a)
    response = world.api_a.get(stats_url(endpoint), params)
    assert response.status_code == 400
    assert field in response.json()


def test_another_tenants_endpoint_stats_are_404(world):
    foreign = EndpointFactory(tenant=world.b)
    assert world.api_a.get(stats_url(foreign)).status_code == 404
    assert world.api_b.get(stats_url(foreign)).status_code == 200


def test_stats_need_a_key(world):
    endpoint = EndpointFactory(tenant=world.a)
    assert world.anonymous.get(stats_url(endpoint)).status_code in (401, 403)
    assert world.api_a_viewer.get(stats_url(endpoint)).status_code == 200


def test_handler_stats_count_each_status(world):
    handler = InboundHandlerFactory(tenant=world.a)
    for status, count in (("success", 5), ("duplicate", 2), ("ignored", 2), ("error", 1)):
        for _ in range(count):
            inbound(world.a, handler=handler, status=status, created_at=at(2026, 3, 2))
    inbound(world.a, status="error", created_at=at(2026, 3, 2))  # another handler
    response = world.api_a.get(
        f"/api/v1/inbound-handlers/{handler.pk}/stats/",
        {"since": "2026-03-01", "until": "2026-03-02"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["success"], body["duplicate"], body["ignored"], body["errors"]) == (
        10,
        5,
        2,
        2,
        1,
    )
    assert (body["success_rate"], body["duplicate_rate"], body["ignored_rate"]) == (0.5, 0.2, 0.2)
    assert body["error_rate"] == 0.1
    assert [d["total"] for d in body["series"]] == [0, 10]


def test_another_tenants_handler_stats_are_404(world):
    foreign = InboundHandlerFactory(tenant=world.b)
    assert world.api_a.get(f"/api/v1/inbound-handlers/{foreign.pk}/stats/").status_code == 404
