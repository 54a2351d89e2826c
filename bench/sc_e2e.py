"""Scenarios 3 and 4: end-to-end latency at a fixed rate, then again beside a hanging buyer.

The open-loop sender records when each lead's 2xx arrived; the receiver records when the lead
(by ``bench_id``) reached it. Latency is the difference, per lead, on the machine's one clock.
Isolation runs the same load into a campaign whose second endpoint hangs until its timeout;
the healthy endpoint's p99 must stay within 2× of scenario 3's and every lead must arrive.
"""

from __future__ import annotations

import time

from django.db import transaction

from deliveries.models import OPEN_STATUSES, Delivery, Status
from logs.models import InboundCall

from . import loadgen
from .context import Ctx, Row

E2E_TARGET_P50_MS = 50
E2E_TARGET_P99_MS = 250
ISOLATION_P99_FACTOR = 2.0


def _wait_arrivals(ctx: Ctx, sink: str, expected: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    arrivals: dict[str, float] = {}
    while time.monotonic() < deadline:
        ctx.stack.check_alive()
        arrivals = ctx.arrivals(sink)
        if expected <= arrivals.keys():
            break
        time.sleep(0.5)
    return arrivals


def settle(timeout: float = 120.0, stable_polls: int = 4) -> float:
    """Wait until the web server stops storing calls (seconds waited).

    When the hub cannot keep up with the fixed rate, requests the sender gave up on are still
    queued in gunicorn and keep creating leads; the next scenario must not start behind them.
    """
    began = time.monotonic()
    last, still = -1, 0
    while time.monotonic() - began < timeout:
        count = InboundCall.objects.count()
        still = still + 1 if count == last else 0
        if still >= stable_polls:
            break
        last = count
        time.sleep(0.5)
    return round(time.monotonic() - began, 1)


def measure(ctx: Ctx, handler: str, sink: str, wait: float) -> dict:
    """Fixed-rate leads into ``handler``; per-lead latency from 2xx to arrival at ``sink``."""
    sizes = ctx.sizes
    settled = settle(20, 2) if sizes.quick else settle(120, 4)
    url = ctx.web + ctx.fixture.handlers[handler]
    with ctx.cpu() as cpu:
        sent = loadgen.open_loop(url, sizes.e2e_rate, sizes.e2e_seconds, handler)
    expected = set(sent.answered_2xx)
    arrivals = _wait_arrivals(ctx, sink, expected, wait)
    latencies = [
        (arrivals[bench_id] - answered) * 1000
        for bench_id, answered in sent.answered_2xx.items()
        if bench_id in arrivals
    ]
    pct = (
        loadgen.percentiles(latencies)
        if latencies
        else dict.fromkeys(("p50", "p90", "p95", "p99", "max"))
    )
    lost = expected - arrivals.keys()
    return {
        "sender": sent.figures(),
        "arrived": len(latencies),
        "lost": len(lost),
        "lost_sample": sorted(lost)[:5],
        "waited_up_to_s": wait,
        "settled_before_s": settled,
        "cpu_cores_while_sending": cpu.cores,
        "latency_ms": {k: None if v is None else round(v, 2) for k, v in pct.items()},
        "lead_ids": sent.lead_ids,
    }


def run_e2e(ctx: Ctx) -> None:
    result = measure(ctx, "e2e", "e2e", wait=ctx.sizes.drain_timeout)
    lead_ids = result.pop("lead_ids")
    ctx.details["e2e"] = result
    lat = result["latency_ms"]
    note = _sender_note(ctx, result)
    ctx.rows += [
        Row(
            "3 end-to-end",
            "2xx → receiver p50",
            lat["p50"],
            "ms",
            target=f"≤ {E2E_TARGET_P50_MS} ms",
            met=result["arrived"] > 0 and lat["p50"] <= E2E_TARGET_P50_MS,
            note=note,
        ),
        Row(
            "3 end-to-end",
            "2xx → receiver p99",
            lat["p99"],
            "ms",
            target=f"≤ {E2E_TARGET_P99_MS} ms",
            met=result["arrived"] > 0 and lat["p99"] <= E2E_TARGET_P99_MS,
        ),
    ]
    ctx.details["e2e"]["deliveries"] = _statuses(lead_ids.values())


def run_isolation(ctx: Ctx) -> None:
    hang_timeout = 30
    wait = ctx.sizes.drain_timeout if ctx.sizes.quick else max(ctx.sizes.drain_timeout, 90)
    result = measure(ctx, "iso", "iso", wait=wait)
    lead_ids = result.pop("lead_ids")
    stats = ctx.receiver_stats()
    result["hanging_endpoint"] = {
        "timeout_s": hang_timeout,
        "requests_reaching_it": stats.get("iso-hang", {}).get("count", 0),
        "deliveries": _statuses(lead_ids.values(), ctx.fixture.endpoints["iso-hang"]),
    }
    result["healthy_deliveries"] = _statuses(lead_ids.values(), ctx.fixture.endpoints["iso"])
    ctx.details["isolation"] = result
    baseline = ctx.details.get("e2e", {}).get("latency_ms", {}).get("p99")
    p99 = result["latency_ms"]["p99"]
    ctx.rows += [
        Row(
            "4 isolation",
            "healthy 2xx → receiver p99",
            p99,
            "ms",
            baseline,
            "scenario 3 p99",
            f"≤ {ISOLATION_P99_FACTOR:g}× scenario 3",
            bool(baseline and result["arrived"]) and p99 <= ISOLATION_P99_FACTOR * baseline,
            f"p50 {result['latency_ms']['p50']} ms; hanging endpoint got "
            f"{result['hanging_endpoint']['requests_reaching_it']} requests; "
            + _sender_note(ctx, result),
        ),
        Row(
            "4 isolation",
            "leads lost",
            float(result["lost"]),
            "leads",
            target="0",
            met=result["lost"] == 0 and result["arrived"] > 0,
            note=f"{result['arrived']} of {result['sender']['ok']} accepted leads arrived "
            f"within {wait:g} s",
        ),
    ]
    # What follows (profiling) should not share the workers with buyers that hang.
    result["hanging_canceled_after"] = cancel_open(ctx.fixture.endpoints["iso-hang"])


CANCEL_CHUNK = 10_000  # ids per UPDATE: a statement takes at most 65,535 parameters


def cancel_open(endpoint_id: int) -> int:
    """Cancel the endpoint's open deliveries that no worker holds right now (rows locked in id
    order, busy ones skipped: a plain bulk UPDATE can deadlock with the engine's own)."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(endpoint_id=endpoint_id, status__in=OPEN_STATUSES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return sum(
            Delivery.objects.filter(pk__in=ids[start : start + CANCEL_CHUNK]).update(
                status=Status.CANCELED
            )
            for start in range(0, len(ids), CANCEL_CHUNK)
        )


def _sender_note(ctx: Ctx, result: dict) -> str:
    """How the fixed-rate sender fared: a hub that cannot keep up shows here first."""
    sender = result["sender"]
    return (
        f"{ctx.sizes.e2e_rate:g} leads/s × {ctx.sizes.e2e_seconds:g} s: sent {sender['sent']}, "
        f"2xx {sender['ok']}, non-2xx {sender['non2xx']}, errors/timeouts {sender['errors']}, "
        f"2xx p99 {sender['response_p99_ms']:.0f} ms; {result['arrived']} arrived, "
        f"{result['lost']} lost; CPU cores while sending: "
        + ", ".join(f"{k} {v:.2f}" for k, v in result["cpu_cores_while_sending"].items())
    )


def _statuses(lead_ids, endpoint_id: int | None = None) -> dict[str, int]:
    rows = Delivery.objects.filter(lead_id__in=list(lead_ids))
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    counts = {s: rows.filter(status=s).count() for s in Status.values}
    return {k: v for k, v in counts.items() if v}
