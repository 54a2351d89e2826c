"""The faults, each run in a thread while the load runs; each answers a line for the report."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time

from .procs import children
from .stack import Stack, start_redis


def inject_flap(stack: Stack, seconds: float) -> str:
    stack.buyer.flapping.add("flap")
    time.sleep(seconds * 0.6)
    stack.buyer.flapping.discard("flap")
    return f"buyer flapped 500/timeout for {seconds * 0.6:.0f} s, then recovered"


def inject_worker_kills(stack: Stack, seconds: float) -> str:
    procs = stack.procs
    killed_children = 0
    whole = False
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        time.sleep(2)
        if not whole and time.monotonic() > stop_at - seconds / 2:
            with stack.supervisor.lock:  # the supervisor restarts it, as in production
                procs.kill("worker")  # the main process and its dispatcher thread too
            whole = True
            continue
        with stack.supervisor.lock:
            worker = procs.running.get("worker")
            pool = children(worker.pid) if worker is not None else []
        if pool:
            kill_pool_process(random.choice(pool))
            killed_children += 1
    return f"SIGKILLed {killed_children} pool processes and once the whole worker"


def kill_pool_process(pid: int) -> None:
    """SIGKILL one pool process (a child of the worker this run started)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def inject_redis(stack: Stack, seconds: float) -> str:
    import redis

    time.sleep(seconds * 0.25)
    stack.procs.kill("redis")
    down = time.monotonic()
    time.sleep(2)
    start_redis(stack.procs, stack.redis_port)
    outage = time.monotonic() - down
    time.sleep(seconds * 0.25)
    redis.Redis(port=stack.redis_port, db=11).flushdb()
    return f"redis-server killed and restarted empty ({outage:.1f} s down), later FLUSHDB"


def inject_postgres(stack: Stack, seconds: float, version: str) -> str:
    time.sleep(seconds * 0.3)
    began = time.monotonic()
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - began
    if done.returncode != 0:
        return f"pg_ctlcluster failed ({done.returncode}): {done.stderr.strip()[:200]}"
    return f"PostgreSQL {version} restarted ({took:.1f} s)"
