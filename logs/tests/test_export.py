import csv
import io

import pytest

from logs.export import HEADER
from logs.tests.helpers import at, call
from tests.factories import EndpointFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/call-logs/export.csv"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_export_starts_with_the_header(world):
    rows = read_csv(world.api_a.get(URL))
    assert rows == [list(HEADER)]


def test_export_has_one_row_per_call_with_its_values(world):
    endpoint = EndpointFactory(tenant=world.a, name="Buyer, Inc.")
    log = call(
        world.a,
        endpoint=endpoint,
        created_at=at(2026, 1, 15, 15, 0, 0),
        phone="+14155550100",
        outcome="rejected",
        result="Duplicate lead",
        duration_ms=432,
        attempt=2,
        request={
            "method": "POST",
            "url": "https://buyer.example.com/in",
            "headers": {},
            "body": "{}",
        },
        response={"status_code": 409, "headers": {}, "body": "dup"},
    )
    header, row = read_csv(world.api_a.get(URL))
    record = dict(zip(header, row, strict=True))
    assert record == {
        "id": str(log.pk),
        "created_at": "2026-01-15T15:00:00.000000+00:00",
        "endpoint": str(endpoint.pk),
        "endpoint_name": "Buyer, Inc.",
        "lead": "",
        "delivery": "",
        "attempt": "2",
        "test": "false",
        "phone": "+14155550100",
        "method": "POST",
        "url": "https://buyer.example.com/in",
        "status_code": "409",
        "outcome": "rejected",
        "result": "Duplicate lead",
        "duration_ms": "432",
    }


def test_export_dates_are_in_the_tenant_time_zone(world):
    world.a.timezone = "America/New_York"
    world.a.save()
    call(world.a, created_at=at(2026, 1, 15, 15, 0, 0))
    _, row = read_csv(world.api_a.get(URL))
    assert row[HEADER.index("created_at")] == "2026-01-15T10:00:00.000000-05:00"


def test_commas_quotes_and_newlines_survive_the_round_trip(world):
    nasty = 'Rejected, "really"\nsecond line\r\nthird, with comma'
    call(world.a, result=nasty)
    raw = b"".join(world.api_a.get(URL).streaming_content).decode()
    assert '"Rejected, ""really""\nsecond line\r\nthird, with comma"' in raw
    _, row = read_csv(world.api_a.get(URL))
    assert row[HEADER.index("result")] == nasty


def test_no_secret_reaches_an_exported_row(world):
    endpoint = EndpointFactory(tenant=world.a, secrets={"token": "tok-SECRET-42"})
    call(
        world.a,
        endpoint=endpoint,
        result="401 from https://x.example/?token=tok-SECRET-42",
        request={
            "method": "GET",
            "url": "https://user:hunter2@buyer.example.com/in?first=Ada&api_key=raw-KEY-9",
            "headers": {"Authorization": "Bearer tok-SECRET-42"},
            "body": "",
        },
    )
    rows = read_csv(world.api_a.get(URL))
    text = "\n".join(",".join(r) for r in rows)
    for secret in ("tok-SECRET-42", "raw-KEY-9", "hunter2"):
        assert secret not in text
    url = rows[1][HEADER.index("url")]
    assert "first=Ada" in url and "api_key=" in url


def test_export_applies_the_list_filters(world):
    one = EndpointFactory(tenant=world.a)
    match = call(world.a, endpoint=one, outcome="error", created_at=at(2026, 2, 1))
    call(world.a, endpoint=one, outcome="accepted", created_at=at(2026, 2, 1))
    call(world.a, outcome="error", created_at=at(2026, 2, 1))
    call(world.a, endpoint=one, outcome="error", created_at=at(2025, 2, 1))
    rows = read_csv(
        world.api_a.get(
            URL, {"endpoint": one.pk, "outcome": "error", "created_after": "2026-01-01"}
        )
    )
    assert [r[0] for r in rows[1:]] == [str(match.pk)]


def test_export_is_newest_first_and_streams_many_rows(world):
    made = [call(world.a, created_at=at(2026, 1, 1, 0, minute)) for minute in range(0, 50)]
    rows = read_csv(world.api_a.get(URL))
    assert [int(r[0]) for r in rows[1:]] == [log.pk for log in reversed(made)]


def test_export_never_includes_another_tenants_rows(world):
    mine = call(world.a)
    call(world.b)
    rows = read_csv(world.api_a.get(URL))
    assert [r[0] for r in rows[1:]] == [str(mine.pk)]


def test_a_bad_filter_is_a_json_400(world):
    response = world.api_a.get(URL, {"created_before": "not a date"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert "created_before" in response.json()


def test_anonymous_cannot_export(world):
    assert world.anonymous.get(URL).status_code in (401, 403)


def test_a_viewer_can_export(world):
    call(world.a)
    assert len(read_csv(world.api_a_viewer.get(URL))) == 2


def test_the_copy_and_iterator_paths_write_the_same_bytes(world):
    """PostgreSQL exports through COPY; other databases through the iterator: same CSV."""
    from logs.export import _copy_lines, _iterator_lines
    from logs.models import CallLog
    from logs.redact import SecretScrubber
    from logs.zones import tenant_zone

    world.a.timezone = "Asia/Kathmandu"  # +05:45
    world.a.save()
    endpoint = EndpointFactory(
        tenant=world.a, name='Quote "Buyer", Ltd', secrets={"token": "tk-77777"}
    )
    call(
        world.a,
        endpoint=endpoint,
        result='multi\nline, "quoted"',
        created_at=at(2026, 5, 1, 1, 2, 3),
    )
    call(world.a, endpoint=endpoint, phone="", result="", test=True)
    call(
        world.a,
        endpoint=endpoint,
        result="refused tk-77777",
        request={"method": "GET", "url": "https://u:pw@x.example/?token=abc&a=1", "headers": {}},
    )
    call(world.a, endpoint=None, request={}, response={"status_code": None})
    rows = CallLog.objects.for_tenant(world.a)
    zone = tenant_zone(world.a)
    scrub = SecretScrubber(["tk-77777"])
    names = {endpoint.pk: endpoint.name}
    via_copy = b"".join(_copy_lines(rows, zone, scrub))
    via_iterator = b"".join(_iterator_lines(rows, names, zone, scrub))
    assert via_copy == via_iterator
    assert b"tk-77777" not in via_copy and b"pw@" not in via_copy and b"token=abc" not in via_copy
    assert b"+05:45" in via_copy


def test_an_abandoned_export_leaves_the_connection_usable(world):
    from django.db import connection

    world.a.timezone = "Asia/Tokyo"
    world.a.save()
    for minute in range(30):
        call(world.a, created_at=at(2026, 1, 1, 0, minute), result="x" * 3000)
    response = world.api_a.get(URL)
    stream = iter(response.streaming_content)
    next(stream)  # the header
    next(stream)  # the first block
    # The client goes away mid-COPY: closing the test client's wrapper closes the response the
    # way a WSGI server does (without closing the test transaction's connection).
    response._iterator.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('TimeZone')")
        assert cursor.fetchone() == ("UTC",)
    assert world.api_a.get("/api/v1/call-logs/").status_code == 200
