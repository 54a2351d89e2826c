import datetime as dt
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from logs import charts, seeding
from logs.models import CallLog
from logs.redact import SecretScrubber, safe_body, safe_url, url_needs_masking
from tenants.redaction import MASK


@pytest.mark.django_db
def test_seed_calllogs_writes_n_realistic_rows_with_copy(world):
    call_command("seed_calllogs", "500", "--tenant", "acme", "--endpoints", "3", "--days", "10")
    rows = CallLog.objects.for_tenant(world.a)
    assert rows.count() == 500
    outcomes = Counter(rows.values_list("outcome", flat=True))
    assert set(outcomes) == {"accepted", "rejected", "error"}
    assert outcomes["accepted"] > outcomes["rejected"] > outcomes["error"]
    assert rows.values("endpoint_id").distinct().count() <= 3
    newest, oldest = rows.first(), rows.last()
    assert newest.created_at - oldest.created_at > dt.timedelta(days=9)
    sample = rows.first()
    assert sample.phone.startswith("+1") and len(sample.phone) == 12
    assert sample.request["url"].startswith("https://buyer-")
    assert "api_key=" + MASK in sample.request["url"]
    assert CallLog.objects.for_tenant(world.b).count() == 0


@pytest.mark.django_db
def test_seed_is_repeatable_and_bulk_create_matches_copy(world):
    endpoints = seeding.ensure_endpoints(world.a, 2)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = list(seeding.generate_rows(world.a.pk, endpoints, 20, seed=3, now=now))
    assert first == list(seeding.generate_rows(world.a.pk, endpoints, 20, seed=3, now=now))
    seeding._bulk_create(iter(first), chunk=7)
    stored = list(
        CallLog.objects.for_tenant(world.a).order_by("id").values_list("result", flat=True)
    )
    assert stored == [row[seeding.COLUMNS.index("result")] for row in first]


@pytest.mark.django_db
def test_seed_refuses_an_unknown_tenant(world):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("seed_calllogs", "5", "--tenant", "nobody")


def test_url_masking_only_touches_urls_that_show_a_secret():
    clean = "https://x.example/a?b=%20c&api_key=" + MASK
    assert not url_needs_masking(clean)
    assert safe_url(clean) == clean
    assert url_needs_masking("https://x.example/a?api%5Fkey=abc")
    assert "abc" not in safe_url("https://x.example/a?api%5Fkey=abc")
    assert url_needs_masking("https://u:pw@x.example/")
    assert "pw" not in safe_url("https://u:pw@x.example/")


def test_known_secret_values_are_scrubbed_longest_first():
    scrub = SecretScrubber(["abcd", "abcdefgh", "no"])
    assert scrub("x abcdefgh y abcd") == f"x {MASK} y {MASK}"
    assert scrub("no change") == "no change"  # "no" is too short to be a secret


def test_body_masking_keeps_clean_bodies_byte_for_byte():
    clean = '{"b": 1,  "a": "x"}'
    assert safe_body(clean) == clean
    assert "s3" not in safe_body('{"client_secret": "s3"}')
    assert "pw1" not in safe_body("user=ada&password=pw1")


def test_charts_escape_text_and_scale_to_a_nice_ceiling():
    svg = charts.stacked_bars(["<b>"], [("A&B", "#000", [7]), ("C", "#111", [None])], label='x"y')
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "A&amp;B" in svg
    assert charts.nice_ceiling(7) == 10 and charts.nice_ceiling(0) == 1
    assert charts.nice_ceiling(130) == 200
    line = charts.lines(["d1", "d2", "d3"], [("p95", "#000", [1, None, 3])], label="t", unit=" ms")
    assert line.count("<circle") == 2 and "<polyline" not in line  # a gap breaks the line


@pytest.mark.parametrize(
    ("line", "suspect"),
    [
        (b"1,https://x.example/a?first=Ada&api_key=********,ok\n", False),
        (b"1,https://x.example/a?first=Ada&api_key=abc,ok\n", True),
        (b'1,"https://x.example/a?b=1,2&token=********",ok\n', False),
        (b"1,https://x.example/a?api%5Fkey=abc,ok\n", True),
        (b"1,https://x.example/a?Authorization=abc,ok\n", True),
        (b"1,https://x.example/a?cookie=abc,ok\n", True),
        (b"1,https://user:pw@x.example/a,ok\n", True),
        (b"1,https://x.example/a?email=ada@example.com,sent to ada@example.com\n", False),
        (b"1,https://x.example/a?phone=%2B14155550100&zip=94105,ok\n", False),
    ],
)
def test_export_line_check_finds_every_row_that_needs_masking(line, suspect):
    from logs.export import line_may_show_secret

    assert line_may_show_secret(line) is suspect
