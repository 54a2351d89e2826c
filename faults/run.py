"""Fault injection on the real stack: ``make faults`` (``python -m faults.run``).

Starts its own stack — a private redis-server, gunicorn, a Celery worker (with the dispatcher
thread) and beat — on the database ``hub_faults`` (dropped and recreated) and Redis db 11 of
the private server, plus a local buyer, and runs one scenario per fault while leads are posted
to an inbound handler (``/hooks/<token>``) at a steady rate:

- ``flap``      the buyer answers alternately 500 and nothing (past the endpoint's timeout),
                then recovers: deliveries retry and end final;
- ``worker``    Celery pool processes SIGKILLed every two seconds, and once the whole worker
                (its dispatcher thread included): leases run out and the deliveries are
                claimed again;
- ``redis``     the Redis server killed (its data gone) and restarted, then flushed;
- ``postgres``  the shared PostgreSQL restarted (``pg_ctlcluster … restart``): calls during the
                outage must answer 503, never a 2xx without a committed lead. It disturbs other
                users of the server for a few seconds, so it runs last, and only when asked
                (``--postgres``; ``make faults`` asks).

gunicorn, the worker and beat run under a supervisor that restarts whichever exits (as systemd
or Docker would); the report names every restart, so a process that crashed is visible.

Each scenario has its own handler, campaign and endpoint, and is judged on its own: every lead
answered 2xx is stored (with the id it was answered with), every stored lead has its delivery,
every delivery is in a final state once the stack is left to drain, and no call was answered a
5xx other than the documented outage answer 503. The buyer's counts show the at-least-once
side: a key it accepted twice is a delivery re-sent after a crash (the ``Idempotency-Key`` lets
a buyer drop it).

Everything started is stopped by PID at the end, on error and on Ctrl-C. Logs are kept in a
temporary directory, printed at the start.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import injections, load
from .procs import ProcError, Procs, free_port
from .receiver import Buyer
from .stack import (
    ENDPOINT_TIMEOUT,
    SCENARIOS,
    Stack,
    check_ready,
    create_fixture,
    environment,
    postgres_version,
    recreate_database,
    start_redis,
    start_stack,
)


@dataclass
class Result:
    name: str
    sent: int
    statuses: Counter
    acked: int
    stored: int
    lost: list[str]
    final: Counter
    open: int
    buyer_answers: Counter
    buyer_keys: int
    duplicates: int
    notes: str

    @property
    def ok(self) -> bool:
        """No 2xx without its lead, every lead delivered to a final state, and no 5xx but the
        documented outage answer (503)."""
        deliveries = sum(self.final.values()) + self.open
        drained = self.open == 0 and deliveries == self.stored
        return not self.lost and drained and self.server_errors == 0

    @property
    def server_errors(self) -> int:
        """5xx answers other than 503 (the receiver's answer while the database is away)."""
        return sum(
            v for k, v in self.statuses.items() if isinstance(k, int) and k >= 500 and k != 503
        )


# ---- running and judging a scenario ---------------------------------------------------------


def run_scenario(
    stack: Stack, name: str, inject: Callable[[Stack, float], str], seconds: float, rate: float
) -> Result:
    print(f"[faults] {name}: {rate:.0f} leads/s for {seconds:.0f} s …", flush=True)
    began = time.monotonic()
    notes: list[str] = []
    injector = threading.Thread(target=lambda: notes.append(inject(stack, seconds)), daemon=True)
    injector.start()
    exchange = 200 + SCENARIOS.index(name)
    sent = load.run(stack.web + stack.handlers[name], name, exchange, seconds, rate)
    injector.join()
    print(f"[faults] {name}: {notes[0] if notes else 'injection did not finish'}", flush=True)
    drained = wait_drained(stack, name, timeout=240)
    text = notes[0] if notes else "the injection did not finish"
    restarted = stack.supervisor.since(began)
    if restarted:
        text += f"; the supervisor restarted: {', '.join(restarted)}"
    return judge(stack, name, sent, text + ("" if drained else "; NOT DRAINED"))


def _open_and_total(stack: Stack, name: str) -> tuple[int, int, int]:
    from django.db import close_old_connections, connection
    from django.db.utils import DatabaseError

    from deliveries.models import OPEN_STATUSES, Delivery
    from leads.models import Lead

    for _ in range(30):
        try:
            close_old_connections()
            deliveries = Delivery.objects.filter(endpoint_id=stack.endpoints[name])
            leads = Lead.objects.filter(campaign_id=stack.campaigns[name]).count()
            return deliveries.filter(status__in=OPEN_STATUSES).count(), deliveries.count(), leads
        except DatabaseError:
            connection.close()
            time.sleep(1)
    raise ProcError("the database did not come back")


def wait_drained(stack: Stack, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        open_, total, leads = _open_and_total(stack, name)
        if open_ == 0 and total == leads:
            return True
        time.sleep(1)
    return False


def judge(stack: Stack, name: str, sent: load.Sent, notes: str) -> Result:
    from deliveries.models import FINAL_STATUSES, Delivery
    from leads.models import Lead

    stored = dict(
        Lead.objects.filter(campaign_id=stack.campaigns[name]).values_list("fields__fault_id", "id")
    )
    lost = [fid for fid, lead_id in sent.acked.items() if stored.get(fid) != lead_id]
    statuses = Counter(
        Delivery.objects.filter(endpoint_id=stack.endpoints[name]).values_list("status", flat=True)
    )
    final = Counter({s: n for s, n in statuses.items() if s in FINAL_STATUSES})
    seen = stack.buyer.seen.get(name)
    keys = seen.accepted_keys if seen else Counter()
    return Result(
        name=name,
        sent=sum(sent.statuses.values()),
        statuses=sent.statuses,
        acked=len(sent.acked),
        stored=len(stored),
        lost=lost,
        final=final,
        open=sum(n for s, n in statuses.items() if s not in FINAL_STATUSES),
        buyer_answers=seen.answered if seen else Counter(),
        buyer_keys=len(keys),
        duplicates=sum(n - 1 for n in keys.values() if n > 1),
        notes=notes,
    )


def report(results: list[Result]) -> bool:
    print()
    print(
        "| scenario | posted | answers | 2xx = acknowledged | stored | deliveries final | open "
        "| lost 2xx | buyer 200s (keys, re-sent) | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items(), key=str))
        final = ", ".join(f"{k} {v}" for k, v in sorted(r.final.items()))
        buyer = f"{r.buyer_answers.get(200, 0)} ({r.buyer_keys} keys, {r.duplicates} re-sent)"
        equal = "=" if r.acked == r.stored == sum(r.final.values()) else "≠"
        verdict = ("PASS" if r.ok else "FAIL") + f" ({equal})"
        print(
            f"| {r.name} | {r.sent} | {answers} | {r.acked} | {r.stored} | {sum(r.final.values())}"
            f" ({final}) | {r.open} | {len(r.lost)} | {buyer} | {verdict} |"
        )
    print()
    for r in results:
        print(f"- {r.name}: {r.notes}")
        if r.lost:
            print(f"  2xx without the committed lead: {r.lost[:10]}")
        if r.server_errors:
            print(f"  {r.server_errors} answers were 5xx other than 503 (the outage answer)")
        if r.stored > r.acked:
            print(f"  {r.stored - r.acked} leads stored whose answer did not reach the caller")
    return all(r.ok for r in results)


# ---- main -----------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m faults.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", default="flap,worker,redis", help="scenarios, comma-separated")
    parser.add_argument("--postgres", action="store_true", help="also restart PostgreSQL (last)")
    parser.add_argument("--seconds", type=float, default=15.0, help="load per scenario")
    parser.add_argument("--rate", type=float, default=40.0, help="leads per second")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_faults"
        ),
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    chosen = [s for s in args.only.split(",") if s]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.postgres and "postgres" not in chosen:
        chosen.append("postgres")
    chosen = [s for s in SCENARIOS if s in chosen]  # PostgreSQL always last
    pg_version = postgres_version() if "postgres" in chosen else ""

    redis_port = free_port()
    env = environment(args.database_url, f"redis://127.0.0.1:{redis_port}/11")
    os.environ.update(env)
    for key in [k for k in os.environ if k.startswith("HUB_") and k not in env]:
        del os.environ[key]
    logs = Path(tempfile.mkdtemp(prefix="hub-faults-"))
    print(f"[faults] logs in {logs}", flush=True)
    procs = Procs(env, logs)
    buyer = Buyer(hold_seconds=ENDPOINT_TIMEOUT + 2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    supervisor = None
    try:
        start_redis(procs, redis_port)
        recreate_database(args.database_url, env)
        import django

        django.setup()
        tenant_id, handlers, campaigns, endpoints = create_fixture(buyer.url)
        buyer.start()
        web, supervisor = start_stack(procs, free_port(), logs / "celerybeat-schedule")
        stack = Stack(
            procs, buyer, web, redis_port, supervisor, handlers, campaigns, endpoints, tenant_id
        )
        check_ready(stack)
        faults = {
            "flap": injections.inject_flap,
            "worker": injections.inject_worker_kills,
            "redis": injections.inject_redis,
            "postgres": lambda s, secs: injections.inject_postgres(s, secs, pg_version),
        }
        results = [
            run_scenario(stack, name, faults[name], args.seconds, args.rate) for name in chosen
        ]
        return 0 if report(results) else 1
    except ProcError as exc:
        print(f"[faults] {exc}", file=sys.stderr)
        return 2
    finally:
        if supervisor is not None:
            supervisor.stop()
        procs.stop_all()
        buyer.close()
        print(f"[faults] stopped everything this run started; logs in {logs}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
