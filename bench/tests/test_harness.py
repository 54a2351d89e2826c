"""The benchmark harness's own pieces (the scenarios themselves run in `make bench-quick`)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from bench import loadgen, profiling, report, sc_e2e, sc_logs
from bench.context import Row
from bench.receiver import app
from bench.stack import Stack
from deliveries.models import Delivery, Status
from leads.normalize import normalize_phone
from tests.factories import DeliveryFactory, EndpointFactory


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    pct = loadgen.percentiles(values)
    assert (pct["p50"], pct["p99"], pct["max"]) == (50.0, 99.0, 100.0)
    assert loadgen.percentiles([])["p99"] == 0.0


def test_phone_blocks_give_valid_numbers_never_reused_across_runs():
    blocks = [loadgen.phone_block() for _ in range(40)]
    numbers = set()
    for block in blocks:
        for seq in (0, loadgen.BLOCK - 1):
            number = loadgen.phone(block, seq)
            assert normalize_phone(number).startswith("+1")
            numbers.add(number)
    assert len(numbers) == 2 * len(blocks)


async def _call(method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, bytes]:
    sent = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    await app(scope, receive, send)
    return sent[0]["status"], sent[1]["body"]


def test_receiver_counts_requests_distinct_keys_and_first_arrival_per_lead():
    async def scenario():
        await _call("POST", "/_reset")
        body = json.dumps({"bench_id": "e2e-1", "email": "a@example.com"}).encode()
        key = [(b"idempotency-key", b"k1")]
        before = time.time()
        assert (await _call("POST", "/r/e2e", body, key))[0] == 200
        await _call("POST", "/r/e2e", body, key)
        await _call("POST", "/r/e2e", json.dumps({"lead": {"bench_id": "e2e-2"}}).encode())
        stats = json.loads((await _call("GET", "/_stats"))[1])
        arrivals = json.loads((await _call("GET", "/_arrivals/e2e"))[1])
        return before, stats, arrivals

    before, stats, arrivals = asyncio.run(scenario())
    assert stats["e2e"]["count"] == 3
    assert stats["e2e"]["distinct_keys"] == 1
    assert set(arrivals) == {"e2e-1", "e2e-2"}
    assert arrivals["e2e-1"] >= before


def test_profile_summary_splits_self_time_by_package(tmp_path):
    raw = tmp_path / "profile.txt"
    raw.write_text(
        'process 1:"gunicorn";hook (inbound/views.py:10);execute (/x/site-packages/psycopg/c.py:5) 3\n'
        'process 1:"gunicorn";hook (inbound/views.py:10);loads (/usr/lib/python3.11/json/d.py:2) 1\n'
    )
    summary = profiling.summarize(raw)
    assert summary["samples"] == 4
    assert summary["self_by_package_pct"]["psycopg"] == 75.0
    assert summary["project_inclusive_pct"]["inbound:views.hook"] == 100.0


def test_logs_figures_become_rows_whatever_their_shape():
    flat = sc_logs.rows_from({"list_p95_ms": 41.5, "export_rows_per_s": 90000, "name": "x"})
    assert [(r.metric, r.value) for r in flat] == [
        ("list_p95_ms", 41.5),
        ("export_rows_per_s", 90000.0),
    ]
    shaped = sc_logs.rows_from({"rows": [{"metric": "list p95", "value": 40, "unit": "ms"}]})
    assert (shaped[0].scenario, shaped[0].metric, shaped[0].unit) == ("5 logs", "list p95", "ms")
    assert sc_logs.rows_from({"skipped": "not there"})[0].value is None


def test_markdown_table_gives_ratio_target_and_skipped_scenarios():
    meta = {
        "quick": True,
        "finished": "now",
        "machine": {
            "cpus": 2,
            "busy_before_pct": 12.0,
            "loadavg_before": [1],
            "loadavg_after": [1],
        },
        "load_generator": "wrk",
    }
    rows = [Row("1 ingest", "accepted leads/s", 1200, "leads/s", 3000, "bare", "≥ 0.30×", True)]
    table = report.markdown(meta, rows, {"2 deliver": "engine missing"})
    assert "| 1 ingest | accepted leads/s | 1,200 leads/s | 3,000 leads/s (bare) | 0.40× |" in table
    assert "| 2 deliver | — | not run |" in table


def test_stack_stops_the_whole_process_group_by_pid(tmp_path, monkeypatch):
    monkeypatch.setattr("bench.stack.OUT", tmp_path)
    stack = Stack(dict(os.environ))
    child_file = tmp_path / "child.pid"
    proc = stack.start("sleeper", ["sh", "-c", f"sleep 30 & echo $! > {child_file}; wait"])
    deadline = time.monotonic() + 5
    while not (child_file.exists() and child_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child = int(child_file.read_text())
    stack.stop_all()
    assert proc.popen.poll() is not None
    with pytest.raises(ProcessLookupError):
        for _ in range(100):  # the child may take a moment to be reaped
            os.kill(child, 0)
            time.sleep(0.02)


@pytest.mark.django_db
def test_cancel_open_cancels_more_open_deliveries_than_one_statement_holds(world, monkeypatch):
    endpoint = EndpointFactory(tenant=world.a)
    other = EndpointFactory(tenant=world.a)
    for _ in range(5):
        DeliveryFactory(tenant=world.a, endpoint=endpoint)
    DeliveryFactory(tenant=world.a, endpoint=other)
    monkeypatch.setattr(sc_e2e, "CANCEL_CHUNK", 2)  # three statements for five rows

    assert sc_e2e.cancel_open(endpoint.pk) == 5
    statuses = Delivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)
    assert set(statuses) == {Status.CANCELED}
    assert Delivery.objects.get(endpoint=other).status != Status.CANCELED
