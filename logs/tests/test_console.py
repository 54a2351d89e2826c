import datetime as dt

import pytest
import time_machine
from django.test import Client

from logs.tests.helpers import at, call, inbound
from tests.factories import (
    DeliveryFactory,
    EndpointFactory,
    InboundHandlerFactory,
    LeadFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/console/logs/calllog/"
INBOUND = "/console/logs/inboundcall/"


def detail(log) -> str:
    return f"/console/logs/calllog/{log.pk}/change/"


@pytest.fixture
def console(world) -> Client:
    client = Client()
    client.force_login(world.viewer_a)
    return client


@pytest.fixture
def console_b(world) -> Client:
    client = Client()
    client.force_login(world.admin_b)
    return client


def page(client, url, params=None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def row_ids(html: str, logs) -> set[int]:
    return {log.pk for log in logs if f'href="/console/logs/calllog/{log.pk}/change/"' in html}


def test_member_sees_the_call_log_list_with_its_columns(world, console):
    endpoint = EndpointFactory(tenant=world.a, name="Solar Buyer")
    log = call(world.a, endpoint=endpoint, phone="+14155550100", result="OK id=77", duration_ms=345)
    html = page(console, LIST)
    for column in (
        "Id",
        "Date (UTC)",
        "Primary Phone",
        "Endpoint",
        "Outcome",
        "Result",
        "Duration",
    ):
        assert column in html
    assert "+14155550100" in html and "Solar Buyer" in html and "OK id=77" in html
    assert "345 ms" in html
    assert f'href="{detail(log)}"' in html  # the View button
    assert f"/console/x/logs/endpoints/{endpoint.pk}/history/" in html


def test_dates_are_shown_in_the_tenant_time_zone(world, console):
    world.a.timezone = "America/New_York"
    world.a.save()
    log = call(world.a, created_at=at(2026, 1, 15, 15, 4, 5))
    html = page(console, LIST)
    assert "Date (America/New_York)" in html
    assert "2026-01-15 10:04:05" in html
    assert "2026-01-15 15:04:05" not in html
    assert "2026-01-15 10:04:05" in page(console, detail(log))


def test_another_tenants_rows_never_show(world, console):
    mine = call(world.a)
    theirs = call(world.b)
    assert row_ids(page(console, LIST), [mine, theirs]) == {mine.pk}


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({"created_after": "2026-01-04T00:00", "created_before": "2026-01-06T00:00"}, "middle"),
        ({"phone": "(415) 555-0177"}, "phone"),
        ({"q": "DUPLICATE"}, "result"),
        ({"outcome": "error"}, "error"),
        ({"test": "true"}, "test"),
    ],
)
def test_console_filters(world, console, params, wanted):
    made = {
        "old": call(world.a, created_at=at(2026, 1, 1)),
        "middle": call(world.a, created_at=at(2026, 1, 5)),
        "phone": call(world.a, phone="+14155550177", created_at=at(2026, 1, 8)),
        "result": call(world.a, result="Duplicate lead", created_at=at(2026, 1, 8)),
        "error": call(world.a, outcome="error", result="Timed out", created_at=at(2026, 1, 8)),
        "test": call(world.a, test=True, created_at=at(2026, 1, 8)),
    }
    html = page(console, LIST, params)
    assert row_ids(html, made.values()) == {made[wanted].pk}


def test_endpoint_filter_gives_the_per_endpoint_page(world, console):
    endpoint = EndpointFactory(tenant=world.a, name="Roofing Buyer")
    mine = call(world.a, endpoint=endpoint)
    other = call(world.a)
    html = page(console, LIST, {"endpoint": endpoint.pk})
    assert row_ids(html, [mine, other]) == {mine.pk}
    assert "Call logs — Roofing Buyer" in html
    assert f"/console/x/logs/endpoints/{endpoint.pk}/stats/" in html


def test_a_bad_filter_shows_an_error_not_a_crash(world, console):
    call(world.a)
    html = page(console, LIST, {"created_after": "soon", "outcome": "maybe"})
    assert "errorlist" in html
    assert "No call logs match" in html


def test_page_sizes_and_paging(world, console):
    made = [call(world.a, created_at=at(2026, 1, 1, 0, n)) for n in range(25)]
    html = page(console, LIST, {"page_size": 20})
    assert len(row_ids(html, made)) == 20
    assert "of 25" in html and "page=2" in html
    html = page(console, LIST, {"page_size": 20, "page": 2})
    assert row_ids(html, made) == {log.pk for log in made[:5]}
    for size in (20, 50, 100, 200, 500, 1000):
        assert f'<option value="{size}"' in html


def test_export_link_keeps_the_filters(world, console):
    html = page(console, LIST, {"outcome": "error", "page": 2})
    assert "/api/v1/call-logs/export.csv?outcome=error" in html


def test_input_data_view_shows_url_parameters_headers_and_response(world, console):
    log = call(
        world.a,
        request={
            "method": "GET",
            "url": "https://buyer.example.com/in?first=Ada&zip=94105&api_key=leaked-1234",
            "headers": {"Authorization": "Bearer tok-9999", "Idempotency-Key": "k-1"},
            "body": "",
        },
        response={
            "status_code": 202,
            "headers": {"Content-Type": "application/json"},
            "body": '{"status": "queued"}',
        },
    )
    html = page(console, detail(log))
    assert "Input Data" in html
    assert "https://buyer.example.com/in?first=Ada&amp;zip=94105&amp;api_key=********" in html
    assert "first=Ada&amp;zip=94105&amp;api_key=********" in html  # the parameter string
    assert "Idempotency-Key" in html and "k-1" in html
    assert "202" in html and "&quot;status&quot;: &quot;queued&quot;" in html
    assert "leaked-1234" not in html and "tok-9999" not in html


def test_another_tenants_log_is_404_in_the_console(world, console, console_b):
    theirs = call(world.b)
    assert console.get(detail(theirs)).status_code == 404
    assert console_b.get(detail(theirs)).status_code == 200
    assert console.get("/console/logs/calllog/abc/change/").status_code == 404


def test_logs_are_read_only_in_the_console(world, world_owner_console):
    log = call(world.a)
    assert world_owner_console.get("/console/logs/calllog/add/").status_code == 403
    assert world_owner_console.post(f"/console/logs/calllog/{log.pk}/delete/").status_code == 403


@pytest.fixture
def world_owner_console(world) -> Client:
    client = Client()
    client.force_login(world.owner_a)
    return client


def test_anonymous_and_outsiders_are_sent_to_login(world):
    assert Client().get(LIST).status_code == 302
    outsider = Client()
    outsider.force_login(world.outsider)
    assert outsider.get(LIST).status_code == 302
    endpoint = EndpointFactory(tenant=world.a)
    assert Client().get(f"/console/x/logs/endpoints/{endpoint.pk}/history/").status_code == 302


def test_notification_history_lists_time_status_code_and_error(world, console):
    endpoint = EndpointFactory(tenant=world.a, name="CRM")
    failed = call(
        world.a,
        endpoint=endpoint,
        outcome="error",
        result="HTTP 503 Service Unavailable",
        response={"status_code": 503, "headers": {}, "body": ""},
        created_at=at(2026, 2, 1, 9, 30),
    )
    ok = call(world.a, endpoint=endpoint, created_at=at(2026, 2, 1, 9, 0))
    elsewhere = call(world.a)
    html = page(console, f"/console/x/logs/endpoints/{endpoint.pk}/history/")
    assert row_ids(html, [failed, ok, elsewhere]) == {failed.pk, ok.pk}
    assert "2026-02-01 09:30:00" in html and "HTTP 503 Service Unavailable" in html
    assert ">503<" in html
    html = page(console, f"/console/x/logs/endpoints/{endpoint.pk}/history/", {"outcome": "error"})
    assert row_ids(html, [failed, ok]) == {failed.pk}


def test_history_and_stats_of_another_tenants_endpoint_are_404(world, console):
    foreign = EndpointFactory(tenant=world.b)
    assert console.get(f"/console/x/logs/endpoints/{foreign.pk}/history/").status_code == 404
    assert console.get(f"/console/x/logs/endpoints/{foreign.pk}/stats/").status_code == 404
    handler = InboundHandlerFactory(tenant=world.b)
    assert console.get(f"/console/x/logs/handlers/{handler.pk}/stats/").status_code == 404


def test_endpoint_stats_page_shows_numbers_and_an_svg_chart(world, console):
    endpoint = EndpointFactory(tenant=world.a, name="Dialer")
    for n, outcome in enumerate(["accepted", "accepted", "rejected", "error"], start=1):
        call(
            world.a,
            endpoint=endpoint,
            outcome=outcome,
            duration_ms=100 * n,
            created_at=at(2026, 3, 2),
        )
    html = page(
        console,
        f"/console/x/logs/endpoints/{endpoint.pk}/stats/",
        {"since": "2026-03-01", "until": "2026-03-03"},
    )
    assert "<svg" in html and "</svg>" in html
    assert "50.0%" in html and "25.0%" in html  # success, rejection and error rates
    assert "250 ms" in html  # average
    assert "03-02 Accepted: 2" in html


def test_stats_page_with_a_bad_period_explains_and_falls_back(world, console):
    endpoint = EndpointFactory(tenant=world.a)
    html = page(console, f"/console/x/logs/endpoints/{endpoint.pk}/stats/", {"since": "nope"})
    assert "Enter a date as YYYY-MM-DD." in html


def test_inbound_list_detail_and_handler_stats(world, console):
    handler = InboundHandlerFactory(tenant=world.a, name="Facebook form")
    row = inbound(
        world.a,
        handler=handler,
        status="duplicate",
        headers={"Authorization": "Basic secret-value", "Content-Type": "application/json"},
        created_at=at(2026, 3, 2, 10),
    )
    theirs = inbound(world.b)
    html = page(console, INBOUND)
    assert "Facebook form" in html and "duplicate" in html
    assert f"/console/logs/inboundcall/{theirs.pk}/change/" not in html
    html = page(console, INBOUND, {"status": "success"})
    assert f"/console/logs/inboundcall/{row.pk}/change/" not in html
    html = page(console, INBOUND, {"handler": handler.pk, "status": "duplicate"})
    assert f"/console/logs/inboundcall/{row.pk}/change/" in html
    html = page(console, f"/console/logs/inboundcall/{row.pk}/change/")
    assert "Raw body" in html and "secret-value" not in html
    assert console.get(f"/console/logs/inboundcall/{theirs.pk}/change/").status_code == 404
    html = page(
        console,
        f"/console/x/logs/handlers/{handler.pk}/stats/",
        {"since": "2026-03-01", "until": "2026-03-02"},
    )
    assert "<svg" in html and "100.0%" in html  # every call a duplicate


@time_machine.travel(dt.datetime(2026, 4, 10, 15, 0, tzinfo=dt.UTC), tick=False)
def test_dashboard_shows_todays_volume_and_worst_endpoints(world, console):
    good = EndpointFactory(tenant=world.a, name="Good buyer")
    bad = EndpointFactory(tenant=world.a, name="Flaky buyer")
    now = dt.datetime(2026, 4, 10, 14, 0, tzinfo=dt.UTC)
    for _ in range(3):
        call(world.a, endpoint=good, created_at=now)
    call(world.a, endpoint=bad, outcome="error", created_at=now)
    call(world.a, endpoint=bad, outcome="rejected", created_at=now)
    call(world.a, endpoint=bad, created_at=now - dt.timedelta(days=2), outcome="error")  # not today
    call(world.b, outcome="error", created_at=now)  # another tenant
    LeadFactory(tenant=world.a)
    DeliveryFactory(tenant=world.a)
    inbound(world.a, status="ignored", created_at=now)
    html = page(console, "/console/")
    assert 'id="today"' in html
    assert "Leads received" in html
    assert "Flaky buyer" in html and f"/console/x/logs/endpoints/{bad.pk}/stats/" in html
    assert "Good buyer" not in html.split('id="worst-endpoints"')[1]
    assert "3 accepted" in html and "1 rejected" in html and "1 error" in html
    assert "1 ignored" in html
    assert ">5</a>" in html  # five delivery attempts today


def test_inbound_console_filters_by_method_and_dates(world, console):
    early = inbound(world.a, method="GET", created_at=at(2026, 1, 1))
    late_get = inbound(world.a, method="GET", created_at=at(2026, 1, 9))
    late_post = inbound(world.a, method="POST", created_at=at(2026, 1, 9))

    def shown(params):
        html = page(console, INBOUND, params)
        return {
            row.pk
            for row in (early, late_get, late_post)
            if f"/console/logs/inboundcall/{row.pk}/change/" in html
        }

    assert shown({"method": "GET"}) == {early.pk, late_get.pk}
    assert shown({"created_after": "2026-01-05T00:00"}) == {late_get.pk, late_post.pk}
    assert shown({"created_before": "2026-01-05T00:00"}) == {early.pk}
