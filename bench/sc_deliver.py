"""Scenario 2, deliver: pending deliveries inserted in bulk, drained by the real workers.

The clock starts when the transaction holding the deliveries (and its NOTIFY) commits and stops
at the last delivery's final state change (its ``updated_at``); every delivery must end
accepted, with one call log each and one distinct ``Idempotency-Key`` at the receiver.
Baselines in the same run: sequential sync httpx POSTs of the same body to the same receiver,
and the issue's reference naive Celery prefork worker (one httpx POST per task).
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import redis
from django.db import transaction
from django.db.models import Max

from deliveries.models import OPEN_STATUSES, Delivery, Status
from deliveries.wakeup import notify_new_deliveries
from endpoints.models import Endpoint
from leads.models import Lead
from logs.models import CallLog

from . import loadgen
from .context import Ctx, Row, worker_flags
from .stack import venv_tool
from .tasks import NAIVE_QUEUE, naive_post

DELIVER_TARGET_RPS = 1000
DELIVER_TARGET_RATIO = 0.85


def lead_fields(seq: int, prefix: str, block: tuple[int, int]) -> dict:
    bench_id = f"{prefix}-{seq}"
    return {
        "bench_id": bench_id,
        "first_name": "Ada",
        "last_name": "Bench",
        "email": f"{bench_id}@example.com",
        "phone": "+1" + loadgen.phone(block, seq),
        "state": "CA",
        "zip_code": "94105",
    }


def rendered(endpoint: Endpoint, fields: dict) -> tuple[str, dict[str, str], bytes]:
    """URL, headers and body the engine would send (adaptors.render when it exists)."""
    try:
        from adaptors.render import render_request
    except ImportError:
        body = json.dumps(fields).encode()
        return endpoint.url, {"Content-Type": "application/json"}, body
    request = render_request(endpoint, endpoint.adaptor, fields, lead_id=1)
    return request.url, dict(request.headers), request.body


def sequential_baseline(ctx: Ctx, endpoint: Endpoint, count: int) -> dict:
    """``count`` sequential POSTs with one sync httpx client (keep-alive) to the receiver."""
    url, headers, body = rendered(endpoint, lead_fields(0, "seq", loadgen.phone_block()))
    url = url.replace("/r/deliver", "/r/deliver-baseline")
    with ctx.cpu() as cpu, httpx.Client(timeout=30, follow_redirects=False) as client:
        client.post(url, content=body, headers=headers)  # connect outside the clock
        began = time.perf_counter()
        for _ in range(count):
            response = client.post(
                url, content=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            response.raise_for_status()
        elapsed = time.perf_counter() - began
    return {
        "calls": count,
        "seconds": round(elapsed, 3),
        "rps": round(count / elapsed, 1),
        "cpu_cores": cpu.cores,
    }


def insert_pending(ctx: Ctx, endpoint: Endpoint, count: int, prefix: str) -> tuple[float, list]:
    """Bulk-insert ``count`` leads with one pending delivery each; answer (commit time, ids)."""
    tenant_id = ctx.fixture.tenant_id
    campaign_id = ctx.fixture.campaigns["deliver"]
    leads = []
    block = loadgen.phone_block()
    for seq in range(count):
        fields = lead_fields(seq, prefix, block)
        lead = Lead(tenant_id=tenant_id, campaign_id=campaign_id, fields=fields)
        lead.sync_indexed()
        leads.append(lead)
    with transaction.atomic():
        Lead.objects.bulk_create(leads, batch_size=2000)
        deliveries = Delivery.objects.bulk_create(
            [Delivery(tenant_id=tenant_id, lead=lead, endpoint=endpoint) for lead in leads],
            batch_size=2000,
        )
        notify_new_deliveries()
    return time.time(), [d.pk for d in deliveries]


def drain(ctx: Ctx, endpoint_id: int, timeout: float) -> bool:
    """Wait until the endpoint has no open delivery left (a cheap poll: the harness shares the
    two cores with what it measures)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ctx.stack.check_alive()
        if not Delivery.objects.filter(endpoint_id=endpoint_id, status__in=OPEN_STATUSES).exists():
            return True
        time.sleep(0.25)
    return False


def measure_drain(ctx: Ctx, count: int, prefix: str) -> dict:
    """Insert ``count`` pending deliveries, wait for the workers to finish them; figures."""
    endpoint = Endpoint.objects.select_related("adaptor").get(pk=ctx.fixture.endpoints["deliver"])
    sink_before = ctx.receiver_stats().get("deliver", {"count": 0, "distinct_keys": 0})
    committed, ids = insert_pending(ctx, endpoint, count, prefix)
    with ctx.cpu() as cpu:
        finished = drain(ctx, endpoint.pk, ctx.sizes.drain_timeout)
    rows = Delivery.objects.filter(pk__in=ids)
    last_change = rows.aggregate(last=Max("updated_at"))["last"]
    statuses = {s: rows.filter(status=s).count() for s in Status.values}
    statuses = {k: v for k, v in statuses.items() if v}
    logs = CallLog.objects.filter(delivery_id__in=ids).count()
    sink = ctx.receiver_stats().get("deliver", {"count": 0, "distinct_keys": 0})
    received = sink["count"] - sink_before["count"]
    keys = sink["distinct_keys"] - sink_before["distinct_keys"]
    elapsed = (last_change.timestamp() - committed) if last_change and finished else None
    accepted = statuses.get(Status.ACCEPTED, 0)
    return {
        "deliveries": count,
        "drained": finished,
        "seconds": None if elapsed is None else round(elapsed, 3),
        "rps": None if not elapsed else round(accepted / elapsed, 1),
        "statuses": statuses,
        "call_logs": logs,
        "receiver_requests": received,
        "receiver_distinct_keys": keys,
        "cpu_cores": cpu.cores,
        "consistent": finished
        and accepted == count
        and logs == count
        and received == count
        and keys == count,
    }


def naive_worker_baseline(ctx: Ctx, tasks: int) -> dict:
    """The issue's naive prefork worker: one task, one DB read and one httpx POST per lead."""
    client = redis.Redis.from_url(ctx.env["REDIS_URL"])
    for key in client.scan_iter(f"{NAIVE_QUEUE}*"):
        client.delete(key)  # tasks the naive view enqueued during the ingest scenario
    lead_ids = list(
        Lead.objects.filter(campaign_id=ctx.fixture.campaigns["naive"]).values_list("id", flat=True)
    )
    if not lead_ids:
        return {"skipped": "no lead from the naive view to send"}
    for seq in range(tasks):
        naive_post.apply_async((lead_ids[seq % len(lead_ids)],), queue=NAIVE_QUEUE)
    before = ctx.sink_count("naive")
    argv = [venv_tool("celery"), "-A", "config", "worker", "-Q", NAIVE_QUEUE, "-n", "naive@%h"]
    argv += ["--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    if "--without-dispatcher" in worker_flags():
        argv.append("--without-dispatcher")  # this worker only runs the naive tasks
    ctx.stack.start("naive-worker", argv, {"BENCH_NAIVE_URL": f"{ctx.receiver}/r/naive"})
    deadline = time.monotonic() + ctx.sizes.drain_timeout
    try:
        with ctx.cpu() as cpu:
            while ctx.sink_count("naive") - before < tasks and time.monotonic() < deadline:
                ctx.stack.check_alive()
                time.sleep(0.25)
    finally:
        ctx.stack.stop("naive-worker")
    sink = ctx.receiver_stats().get("naive", {})
    done = sink.get("count", 0) - before
    span = (sink.get("last") or 0) - (sink.get("first") or 0)
    return {
        "tasks": tasks,
        "done": done,
        "seconds": round(span, 3),
        "rps": round((done - 1) / span, 1) if span > 0 else None,
        "concurrency": "celery default (one process per core)",
        "cpu_cores": cpu.cores,
    }


def run(ctx: Ctx) -> None:
    sizes = ctx.sizes
    endpoint = Endpoint.objects.select_related("adaptor").get(pk=ctx.fixture.endpoints["deliver"])
    baseline = sequential_baseline(ctx, endpoint, sizes.baseline_calls)
    drained = measure_drain(ctx, sizes.deliveries, "deliver")
    ctx.details["deliver"] = {"sequential_httpx": baseline, "engine": drained}
    rps = drained["rps"]
    ratio = rps / baseline["rps"] if rps else None
    ctx.rows += [
        Row(
            "2 deliver",
            f"deliveries/s ({sizes.deliveries:,} pending)",
            rps,
            "deliveries/s",
            baseline["rps"],
            "sequential sync httpx",
            f"≥ {DELIVER_TARGET_RPS:,}/s and ≥ {DELIVER_TARGET_RATIO:.2f}× baseline",
            bool(rps and rps >= DELIVER_TARGET_RPS and ratio >= DELIVER_TARGET_RATIO),
            f"{drained['statuses']}; CPU cores: "
            + ", ".join(f"{k} {v:.2f}" for k, v in drained["cpu_cores"].items()),
        ),
        Row(
            "2 deliver",
            "accepted == call logs == received == keys",
            float(drained["call_logs"]),
            "deliveries",
            target="all equal",
            met=drained["consistent"],
            note=f"received {drained['receiver_requests']}, "
            f"distinct keys {drained['receiver_distinct_keys']}",
        ),
    ]


def run_naive_reference(ctx: Ctx) -> None:
    naive = naive_worker_baseline(ctx, ctx.sizes.naive_tasks)
    ctx.details["naive_worker"] = naive
    if "skipped" in naive:
        ctx.skipped["ref naive worker"] = naive["skipped"]
    if naive.get("rps") is not None:
        ctx.rows.append(
            Row(
                "ref",
                "naive Celery prefork worker (httpx POST per task)",
                naive["rps"],
                "tasks/s",
                note="issue reference ≈465 tasks/s; CPU cores: "
                + ", ".join(f"{k} {v:.2f}" for k, v in naive["cpu_cores"].items()),
            )
        )
