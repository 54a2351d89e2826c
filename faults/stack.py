"""The stack of a fault run: settings, database, fixture, processes and their supervisor."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from . import load
from .procs import ROOT, ProcError, Procs, tool
from .receiver import Buyer

ENDPOINT_TIMEOUT = 2  # seconds; the flapping buyer holds a request longer than this
LEASE_SECONDS = 10  # short, so a killed worker's deliveries are claimed again quickly
SCENARIOS = ("flap", "worker", "redis", "postgres")


class Supervisor(threading.Thread):
    """Restarts a supervised process that exits, as systemd or Docker would in production;
    every restart is kept (name, exit code) so the report shows what crashed."""

    def __init__(self, procs: Procs, starters: dict[str, Callable[[], None]]):
        super().__init__(name="supervisor", daemon=True)
        self.procs = procs
        self.starters = starters
        self.restarts: list[tuple[float, str, int | None]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            with self.lock:
                for name, start in self.starters.items():
                    popen = self.procs.running.get(name)
                    code = None if popen is None else popen.poll()
                    if popen is not None and code is None:
                        continue
                    if popen is not None:
                        self.procs.running.pop(name)
                    self.restarts.append((time.monotonic(), name, code))
                    print(f"[faults] supervisor: {name} exited ({code}); restarting", flush=True)
                    try:
                        start()
                    except ProcError as exc:  # tried again on the next round
                        print(f"[faults] supervisor: {exc}", flush=True)

    def since(self, began: float) -> list[str]:
        return [
            f"{name} ({'killed by this run' if code is None else f'exit {code}'})"
            for at, name, code in self.restarts
            if at >= began
        ]

    def stop(self) -> None:
        self.stopping.set()
        self.join(120)


@dataclass
class Stack:
    procs: Procs
    buyer: Buyer
    web: str
    redis_port: int
    supervisor: Supervisor
    handlers: dict[str, str]  # scenario → /hooks/<token>
    campaigns: dict[str, int]
    endpoints: dict[str, int]
    tenant_id: int


# ---- setup ----------------------------------------------------------------------------------


def environment(database_url: str, redis_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "HUB_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="faults-run-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        HUB_ALLOW_PRIVATE_DESTINATIONS="true",
        HUB_DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def recreate_database(database_url: str, env: dict[str, str]) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.startswith("hub_faults"):
        raise SystemExit(f"refusing to drop {name!r}: the fault database must be hub_faults*")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def create_fixture(buyer_url: str) -> tuple[int, dict, dict, dict]:
    """A tenant with, per scenario (and a probe), a campaign, a handler and one endpoint."""
    from django.db import transaction

    from adaptors.models import Adaptor
    from endpoints.models import Endpoint
    from inbound.models import InboundHandler
    from leads.models import Campaign
    from tenants.models import Tenant

    parameters = [{"name": n, "type": "text"} for n in ("fault_id", "first_name", "email", "phone")]
    mappings = [{"parameter": p["name"], "lead_field": p["name"]} for p in parameters]
    handlers, campaigns, endpoints = {}, {}, {}
    with transaction.atomic():
        tenant = Tenant.objects.create(slug="faults", name="Fault injection")
        adaptor = Adaptor.objects.create(
            tenant=tenant,
            name="faults",
            mappings=[{"source": p["name"], "target": p["name"]} for p in parameters],
        )
        for name in (*SCENARIOS, "probe"):
            campaign = Campaign.objects.create(tenant=tenant, name=name)
            handler = InboundHandler.objects.create(
                tenant=tenant,
                name=name,
                campaign=campaign,
                parameters=parameters,
                mappings=mappings,
            )
            handlers[name], campaigns[name] = handler.path, campaign.pk
            if name == "probe":
                continue
            endpoint = Endpoint.objects.create(
                tenant=tenant,
                name=name,
                url=f"{buyer_url}/{name}",
                adaptor=adaptor,
                timeout_seconds=ENDPOINT_TIMEOUT,
                retry={"max_attempts": 10, "backoff_seconds": 1},
            )
            endpoint.campaigns.set([campaign])
            endpoints[name] = endpoint.pk
    return tenant.pk, handlers, campaigns, endpoints


def start_redis(procs: Procs, port: int) -> None:
    """A private, non-persistent Redis: restarting it loses everything, as a crash would."""
    procs.start(
        "redis",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    deadline = time.monotonic() + 20
    import redis

    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, socket_timeout=1).ping()
            return
        except redis.RedisError:
            time.sleep(0.1)
    raise ProcError("redis-server did not start")


def start_worker(procs: Procs) -> None:
    since = procs.log_size("worker")
    procs.start(
        "worker",
        [
            tool("celery"),
            "-A",
            "config",
            "worker",
            "-n",
            f"faults{random.randrange(10**6)}@%h",
            "-c",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
    )
    procs.wait_log("worker", "ready.", timeout=90, since=since)


def start_stack(procs: Procs, web_port: int, beat_schedule: Path) -> tuple[str, Supervisor]:
    """gunicorn, the worker and beat, under a supervisor."""
    web = f"http://127.0.0.1:{web_port}"

    def gunicorn() -> None:
        procs.start(
            "gunicorn",
            # The product's own server settings (gthread, a worker per CPU, reuse_port).
            [tool("gunicorn"), "-c", str(ROOT / "config" / "gunicorn.py"), "config.wsgi"]
            + ["-b", f"127.0.0.1:{web_port}", "--timeout", "30", "--log-level", "warning"],
        )
        procs.wait_http("gunicorn", f"{web}/healthz")

    def beat() -> None:
        procs.start(
            "beat",
            [tool("celery"), "-A", "config", "beat", "--loglevel", "INFO"]
            + ["-s", str(beat_schedule)],
        )

    starters = {"gunicorn": gunicorn, "worker": lambda: start_worker(procs), "beat": beat}
    for start in starters.values():
        start()
    supervisor = Supervisor(procs, starters)
    supervisor.start()
    return web, supervisor


def check_ready(stack: Stack) -> None:
    """The inbound receiver and the delivery engine must exist and answer."""
    from importlib import util

    missing = [m for m in ("deliveries.engine", "deliveries.tasks") if util.find_spec(m) is None]
    if missing:
        raise SystemExit(f"not ready: {', '.join(missing)} does not exist yet")
    response = httpx.post(
        stack.web + stack.handlers["probe"],
        content=load.lead_body("probe-0", 0, exchange=299),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    if not 200 <= response.status_code < 300:
        raise SystemExit(f"not ready: POST /hooks/<token> answered {response.status_code}")


def postgres_version() -> str:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "main" and fields[2] == "5432":
            return fields[0]
    raise SystemExit("no PostgreSQL cluster 'main' on port 5432 (pg_lsclusters)")
