"""The benchmark harness: ``python -m bench.run [--quick] [--profile] [--logs]``.

Recreates the ``hub_bench`` database and flushes Redis db 8, starts the real stack (granian
receiver, gunicorn, Celery worker and beat, the dispatcher when it is a separate command), runs
each scenario with its own baseline, stops every process it started (by PID, also on Ctrl-C),
writes ``bench/results.json`` and ``bench/results.md`` and prints the table.

Exit status: 0 when every scenario ran (targets missed or not); 1 when a scenario broke (an
error in the harness or in the stack); 2 when PostgreSQL or Redis cannot be reached. A scenario
whose product code does not exist yet is reported as skipped, not as an error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shlex
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata, util

from . import db, report
from .context import Ctx, Sizes, cpu_busy, loadavg, worker_flags
from .loadgen import have_wrk
from .stack import DEFAULT_CONFIG, GUNICORN_CONFIGS, OUT, ROOT, Stack, StackError, venv_tool

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hub_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"


class Skip(Exception):
    """A scenario cannot run yet (the product code it measures does not exist)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of every process: the caller's (product settings pass through, for
    what-if runs), with the benchmark's database, Redis db and settings module."""
    env = dict(os.environ)
    env.update(
        {
            # A what-if settings module must extend bench.settings (e.g. to try a setting).
            "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS_MODULE", "bench.settings"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "HUB_ALLOW_PRIVATE_DESTINATIONS": "true",
            "HUB_EMBEDDED_ENGINE": "false",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start_receiver(stack: Stack, port: int) -> str:
    argv = [venv_tool("granian"), "--interface", "asgi", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", "1", "--backpressure", "8192", "--no-ws"]
    argv += ["--workers-kill-timeout", "1", "--log-level", "warning", "bench.receiver:app"]
    stack.start("receiver", argv)
    url = f"http://127.0.0.1:{port}"
    stack.wait_http("receiver", f"{url}/_stats")
    return url


def start_workers(ctx: Ctx) -> None:
    """Celery worker (it runs the dispatcher thread) and beat (the 5 s sweep).

    ``BENCH_DISPATCHER_CMD`` runs a standalone dispatcher instead (workers then get
    ``--without-dispatcher``); ``BENCH_WORKER_ARGS`` adds worker flags (pool, concurrency).
    """
    if util.find_spec("deliveries.tasks") is None or util.find_spec("deliveries.engine") is None:
        raise Skip("deliveries/engine.py or deliveries/tasks.py does not exist yet")
    extra = shlex.split(os.environ.get("BENCH_WORKER_ARGS", ""))
    dispatcher = shlex.split(os.environ.get("BENCH_DISPATCHER_CMD", ""))
    if dispatcher and "--without-dispatcher" in worker_flags():
        extra.append("--without-dispatcher")
    argv = [venv_tool("celery"), "-A", "config", "worker", "-n", "bench@%h", "--loglevel", "INFO"]
    argv += ["--without-gossip", "--without-mingle", *extra]
    ctx.stack.start("worker", argv)
    beat = [venv_tool("celery"), "-A", "config", "beat", "--loglevel", "INFO"]
    ctx.stack.start("beat", beat + ["-s", str(OUT / "celerybeat-schedule")])
    if dispatcher:
        ctx.stack.start("dispatcher", dispatcher)
    ctx.stack.wait_log("worker", "ready.", timeout=60)
    ctx.details["workers"] = {
        "worker": " ".join(argv[1:]),
        "beat": " ".join(beat[1:]),
        "dispatcher": " ".join(dispatcher) if dispatcher else "thread in the worker",
    }


def step(ctx: Ctx, name: str, errors: list[str], fn: Callable[[], None]) -> bool:
    """Run one scenario; a Skip or an error is recorded and the run goes on."""
    print(f"[bench] {name} …", flush=True)
    began = time.monotonic()
    try:
        from django.db import close_old_connections

        # The harness holds one connection all run long: drop it if a step broke it (a
        # PostgreSQL restart by someone else on a shared machine), so the next step reconnects.
        close_old_connections()
        fn()
    except Skip as exc:
        ctx.skipped[name] = str(exc)
        return False
    except (StackError, Exception) as exc:  # noqa: BLE001 - any failure becomes a report line
        ctx.skipped[name] = f"error: {str(exc).splitlines()[0][:300]}"
        errors.append(f"{name}: {traceback.format_exc()}")
        return False
    finally:
        print(f"[bench] {name} done in {time.monotonic() - began:.1f}s", flush=True)
    return True


def run_logs_bench(env: dict[str, str]) -> dict | None:
    """The logs engineer's bench/logs_bench.py (full runs only); its JSON is merged."""
    import json
    import subprocess

    script = ROOT / "bench" / "logs_bench.py"
    if not script.exists():
        return {"skipped": "bench/logs_bench.py does not exist yet"}
    out = OUT / "logs.json"
    out.unlink(missing_ok=True)
    logs_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=logs_env, check=False)
    if done.returncode != 0 or not out.exists():
        return {"error": f"bench/logs_bench.py exited {done.returncode}"}
    return json.loads(out.read_text())


def versions() -> dict[str, str]:
    found = {}
    for name in (
        "Django",
        "gunicorn",
        "celery",
        "granian",
        "httpx",
        "aiohttp",
        "psycopg",
        "py-spy",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


SETTINGS_SHOWN = (
    "HUB_DELIVERY_BATCH_SIZE",
    "HUB_ENDPOINT_CONCURRENCY",
    "HUB_DELIVERY_LEASE_SECONDS",
)
SCENARIOS = ("ingest", "naive-worker", "deliver", "e2e", "isolation")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long CI version")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the ingest and deliver paths"
    )
    parser.add_argument("--logs", action="store_true", help="run bench/logs_bench.py and merge it")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument(
        "--compare-servers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure each gunicorn configuration first (default: on for full runs)",
    )
    parser.add_argument(
        "--server",
        default=DEFAULT_CONFIG["name"],
        choices=[config["name"] for config in GUNICORN_CONFIGS],
        help="gunicorn configuration when not comparing them (naming one skips the comparison)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = Sizes.make(args.quick)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    problems = db.check_services(database_url, redis_url)
    if util.find_spec("granian") is None:
        problems.append("granian is not installed (pip install granian==2.8.7; pinned in [dev])")
    if problems:
        print("[bench] cannot start:", *problems, sep="\n  ", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    env = stack_env(database_url, redis_url)
    web_port, receiver_port = free_port(), free_port()
    meta = {
        "quick": args.quick,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": loadavg(),
            "busy_before_pct": round(cpu_busy(1.0), 1),
        },
        "load_generator": "wrk" if have_wrk() else "python-aiohttp (wrk not installed)",
        "versions": versions(),
        "database": db.database_name(database_url),
        "redis": redis_url,
    }
    stack = Stack(env)
    errors: list[str] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Even when started with SIGINT ignored (a background job of a script), Ctrl-C must stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ctx = None
    setup_began = time.monotonic()
    try:
        db.recreate(database_url, env)
        db.flush_redis(redis_url)
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings

        from . import fixtures

        meta["settings"] = {
            "CONN_MAX_AGE": settings.DATABASES["default"].get("CONN_MAX_AGE"),
            **{k: getattr(settings, k, None) for k in SETTINGS_SHOWN},
            "postgres autovacuum": db.postgres_autovacuum(),
        }
        receiver = start_receiver(stack, receiver_port)
        fixture = fixtures.create(receiver)
        ctx = Ctx(stack, env, f"http://127.0.0.1:{web_port}", receiver, fixture, sizes)
        print(f"[bench] set up in {time.monotonic() - setup_began:.1f}s", flush=True)
        _run_scenarios(ctx, args, web_port, errors)
    except KeyboardInterrupt:
        errors.append("interrupted")
    except Exception:  # noqa: BLE001 - setup failures are reported, the stack still stops
        errors.append(f"setup: {traceback.format_exc()}")
    finally:
        began = time.monotonic()
        stack.stop_all()
        print(
            f"[bench] stack stopped in {time.monotonic() - began:.1f}s "
            f"(seconds per process, None = killed: {stack.stopped_after})",
            flush=True,
        )
    meta["machine"]["loadavg_after"] = loadavg()
    meta["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if ctx is None:
        print("[bench] setup failed:", *errors, sep="\n", file=sys.stderr)
        return 1
    if args.logs and not args.quick:
        ctx.details["logs"] = run_logs_bench(env)
        from .sc_logs import rows_from

        ctx.rows += rows_from(ctx.details["logs"])
    meta["gunicorn"] = ctx.gunicorn
    table = report.write(ROOT / "bench", meta, ctx.rows, ctx.details, ctx.skipped)
    print(table)
    if errors:
        (OUT / "errors.log").write_text("\n\n".join(errors))
        print(
            f"[bench] {len(errors)} scenario(s) failed; see bench/out/errors.log", file=sys.stderr
        )
        return 1
    return 0


def _run_scenarios(ctx: Ctx, args: argparse.Namespace, web_port: int, errors: list[str]) -> None:
    from . import sc_deliver, sc_e2e, sc_ingest

    ready, why = False, ""

    def server() -> None:
        nonlocal ready, why
        chosen = next(c for c in GUNICORN_CONFIGS if c["name"] == args.server)
        sc_ingest.start_gunicorn(ctx, chosen, web_port)
        ready, why = sc_ingest.hooks_ready(ctx)
        compare = args.compare_servers
        if compare is None:
            compare = not args.quick and args.server == DEFAULT_CONFIG["name"]
        if compare:
            ctx.stack.stop("gunicorn")
            best = sc_ingest.compare_server_configs(ctx, web_port, with_hooks=ready)
            sc_ingest.start_gunicorn(ctx, best, web_port)

    only = set(args.only.split(",")) if args.only else set(SCENARIOS)
    if not step(ctx, "server", errors, server):
        return
    if "ingest" in only:
        step(ctx, "1 ingest + baselines", errors, lambda: sc_ingest.run(ctx, ready, why))
    if "naive-worker" in only:
        step(ctx, "ref naive worker", errors, lambda: sc_deliver.run_naive_reference(ctx))
    if not only & {"deliver", "e2e", "isolation"} and not args.profile:
        return
    if not step(ctx, "workers", errors, lambda: start_workers(ctx)):
        for name in ("2 deliver", "3 end-to-end", "4 isolation"):
            ctx.skipped.setdefault(name, ctx.skipped.get("workers", ""))
        ctx.skipped.pop("workers", None)
        return
    if "deliver" in only:
        step(ctx, "vacuum", errors, db.vacuum)
        step(ctx, "2 deliver", errors, lambda: sc_deliver.run(ctx))
    if not ready:
        ctx.skipped["3 end-to-end"] = ctx.skipped["4 isolation"] = why
    if ready and "e2e" in only:
        step(ctx, "vacuum", errors, db.vacuum)
        step(ctx, "3 end-to-end", errors, lambda: sc_e2e.run_e2e(ctx))
    if ready and "isolation" in only:
        step(ctx, "vacuum", errors, db.vacuum)
        step(ctx, "4 isolation", errors, lambda: sc_e2e.run_isolation(ctx))
    if args.profile:
        from . import sc_profile

        step(ctx, "profile", errors, lambda: sc_profile.run(ctx, with_hooks=ready))


if __name__ == "__main__":
    sys.exit(main())
