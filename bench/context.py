"""What every scenario shares: the running stack, its URLs, the fixture, sizes, result rows."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from .cpu import CpuMeter
from .stack import Stack


@dataclass(frozen=True)
class Fixture:
    """Ids of what ``bench.fixtures.create`` made."""

    tenant_id: int
    campaigns: dict[str, int]
    handlers: dict[str, str]  # scenario -> /hooks/<token> path
    endpoints: dict[str, int]


@dataclass(frozen=True)
class Sizes:
    """How long / how much each scenario runs; ``quick`` is the seconds-long CI version."""

    quick: bool
    ingest_seconds: float
    ingest_connections: int
    deliveries: int
    baseline_calls: int
    naive_tasks: int
    e2e_rate: float
    e2e_seconds: float
    drain_timeout: float

    @classmethod
    def make(cls, quick: bool) -> Sizes:
        if quick:
            return cls(True, 2, 16, 500, 500, 100, 50, 3, 15)
        return cls(False, 15, 32, 20_000, 10_000, 3_000, 200, 30, 300)


@dataclass
class Row:
    """One figure of the results table."""

    scenario: str
    metric: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict:
        ratio = self.ratio
        return {
            "scenario": self.scenario,
            "metric": self.metric,
            "value": None if self.value is None else round(self.value, 3),
            "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, 3),
            "baseline_name": self.baseline_name,
            "ratio": None if ratio is None else round(ratio, 3),
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class Ctx:
    stack: Stack
    env: dict[str, str]
    web: str  # http://127.0.0.1:<port>
    receiver: str  # http://127.0.0.1:<port>
    fixture: Fixture
    sizes: Sizes
    gunicorn: dict = field(default_factory=dict)  # the chosen server configuration
    rows: list[Row] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def cpu(self) -> CpuMeter:
        """A meter of who used the CPUs while its ``with`` block runs."""
        return CpuMeter(self.stack, urlsplit(self.env["DATABASE_URL"]).path.lstrip("/"))

    def receiver_stats(self) -> dict:
        return httpx.get(f"{self.receiver}/_stats", timeout=10).json()

    def sink_count(self, sink: str) -> int:
        return self.receiver_stats().get(sink, {}).get("count", 0)

    def arrivals(self, sink: str) -> dict[str, float]:
        return httpx.get(f"{self.receiver}/_arrivals/{sink}", timeout=30).json()


def cpu_busy(seconds: float = 1.0) -> float:
    """Percentage of all CPUs busy over ``seconds`` (from /proc/stat): the machine's load."""
    try:
        first = _cpu_times()
        time.sleep(seconds)
        second = _cpu_times()
    except OSError:
        return float("nan")
    idle = second[1] - first[1]
    total = second[0] - first[0]
    return 100.0 * (1 - idle / total) if total else 0.0


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values), idle


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def worker_flags() -> set[str]:
    """Extra command-line flags the project's Celery worker accepts (e.g. --without-dispatcher)."""
    from config.celery import app

    return {flag for option in app.user_options["worker"] for flag in option.opts}
