"""Who used the CPUs during a measurement: the stack's processes, PostgreSQL, and everyone else.

Reads utime+stime from /proc before and after. Each process of the stack is in its own process
group (``Stack``), so its workers are attributed to it by group id. PostgreSQL backends serving
the benchmark database are "postgres"; backends that exited meanwhile (connections closed after
each request) are only visible as what the postmaster reaped, whatever their database:
"postgres (closed connections)"; WAL writer, checkpointer and autovacuum are "postgres (server)". The harness counts with the load generators it ran and reaped.
Whatever the machine did beyond that is "other" — on a shared machine, the load that makes
figures noisy (including other databases' backends).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> tuple[int, int, int, str] | None:
    """(pgid, own ticks, reaped children's ticks, command) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15, cutime 16, cstime 17.
    pgid = int(fields[2])
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    return pgid, own, children, cmd


def _machine_busy_ticks() -> int:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values[:8]) - idle


def snapshot(groups: dict[int, str], database: str) -> tuple[float, int, dict[str, dict]]:
    """Per-process ticks, classified: ``groups`` maps a process-group id to a stack name."""
    me = os.getpid()
    ours = f" {database} "
    procs: dict[str, dict[str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        if stat is None:
            continue
        pgid, own, children, cmd = stat
        name = Path(cmd).name
        if pgid in groups:
            label = groups[pgid]
        elif cmd.startswith("postgres:"):
            client = "(" in cmd or "[local]" in cmd  # a client backend, not a server process
            label = "postgres" if ours in cmd else "other" if client else "postgres (server)"
        elif name == "postgres":  # the postmaster: the backends it reaped
            label, own = "postgres (closed connections)", children
        elif int(entry.name) == me:
            label, own = "harness+loadgen", own + children
        elif name == "wrk":
            label = "harness+loadgen"
        else:
            label = "other"
        procs[entry.name] = {"label": label, "ticks": own}
    return time.monotonic(), _machine_busy_ticks(), procs


class CpuMeter:
    """``with CpuMeter(stack) as meter: ...`` then ``meter.cores``: cores used per label."""

    def __init__(self, stack, database: str):
        self.stack = stack
        self.database = database
        self.cores: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._groups = {proc.pid: name for name, proc in self.stack.procs.items()}
        self._start = snapshot(self._groups, self.database)
        return self

    def __exit__(self, *exc) -> None:
        end = snapshot(self._groups, self.database)
        seconds = end[0] - self._start[0]
        if seconds <= 0:
            return
        used: Counter[str] = Counter()
        for pid, info in end[2].items():
            before = self._start[2].get(pid)
            delta = info["ticks"] - (before["ticks"] if before else 0)
            used[info["label"]] += max(delta, 0)
        machine = max(end[1] - self._start[1], 0)
        # /proc/stat counts every CPU: busy ticks over the interval, in the same unit.
        attributed = sum(v for k, v in used.items() if k != "other")
        used["other"] = max(machine - attributed, 0)
        self.cores = {
            label: round(ticks / TICKS / seconds, 2)
            for label, ticks in sorted(used.items(), key=lambda kv: -kv[1])
            if ticks
        }

    def summary(self) -> str:
        return ", ".join(f"{label} {cores:.2f}" for label, cores in self.cores.items())
