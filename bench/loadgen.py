"""Load generators: wrk (closed loop, for throughput) and a Python open-loop sender (fixed rate).

Every request carries a distinct lead (``bench_id``, email and phone differ), so the inbound
handler's dedupe never folds two requests together. The wrk script (``bench/ingest.lua``)
writes the ``lead_id`` of each 2xx answer to a file; the open-loop sender keeps, per
``bench_id``, the wall-clock time its 2xx arrived, which the end-to-end scenario compares with
the receiver's arrival time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

import aiohttp

from .stack import OUT, ROOT

LUA = ROOT / "bench" / "ingest.lua"
_LEAD_ID = re.compile(rb'"lead_id"\s*:\s*(\d+)')


# Area codes whose numbers 2000000-9999999 phonenumbers accepts as valid US numbers.
AREA_CODES = (415, 212, 312, 213, 617, 718, 305, 404, 512, 206, 303, 602, 702, 214, 713, 801)
BLOCK = 500_000  # numbers per run; a run sends far fewer leads
_blocks = itertools.count()


def phone_block() -> tuple[int, int]:
    """A fresh (area code, first local number) block: no two runs send the same phone.

    The inbound handler updates the existing lead that has the same email or phone instead
    of creating one, so reusing a phone would turn a new lead into an update of an old one.
    """
    index = next(_blocks)
    per_area = 8_000_000 // BLOCK
    return AREA_CODES[(index // per_area) % len(AREA_CODES)], 2_000_000 + (index % per_area) * BLOCK


def phone(block: tuple[int, int], seq: int) -> str:
    return f"{block[0]}{block[1] + seq:07d}"


def lead_body(bench_id: str, phone_number: str) -> bytes:
    """The JSON lead the Python senders post (the same shape as ``ingest.lua`` builds)."""
    return json.dumps(
        {
            "bench_id": bench_id,
            "fname": "Ada",
            "lname": "Bench",
            "email": f"{bench_id}@example.com",
            "phone": phone_number,
            "state": "CA",
            "zip": "94105",
            "source": "python",
        }
    ).encode()


@dataclass
class LoadResult:
    """A closed-loop run: throughput of 2xx answers and latency percentiles (ms)."""

    tool: str
    seconds: float
    connections: int
    sent: int
    ok: int
    non2xx: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    lead_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def figures(self) -> dict:
        return {
            "tool": self.tool,
            "seconds": round(self.seconds, 2),
            "connections": self.connections,
            "sent": self.sent,
            "ok": self.ok,
            "non2xx": self.non2xx,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
        }


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def closed_loop(url: str, seconds: float, connections: int, prefix: str) -> LoadResult:
    """POST distinct leads to ``url`` for ``seconds`` with ``connections`` in flight.

    Uses wrk when installed (it costs the 2-core machine far less CPU than any Python
    client); otherwise a Python sender, and the result says which tool measured.
    """
    if have_wrk():
        return _wrk(url, seconds, connections, prefix)
    return asyncio.run(_python_closed(url, seconds, connections, prefix))


def _wrk(url: str, seconds: float, connections: int, prefix: str) -> LoadResult:
    iddir = OUT / "ids"
    iddir.mkdir(parents=True, exist_ok=True)
    for old in iddir.glob(f"{prefix}-*.ids"):
        old.unlink()
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    area, first = phone_block()
    argv += ["-s", str(LUA), url, "--", prefix, str(iddir), str(area), str(first)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {done.stdout[-500:]} {done.stderr[-500:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    ids: list[int] = []
    for path in iddir.glob(f"{prefix}-*.ids"):
        ids += [int(v) for v in path.read_text().split()]
    errors = sum(data["errors"][k] for k in ("connect", "read", "write", "timeout"))
    return LoadResult(
        tool="wrk",
        seconds=data["duration_us"] / 1e6,
        connections=connections,
        sent=data["sent"],
        ok=data["ok"],
        non2xx=data["non2xx"],
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        lead_ids=ids,
    )


async def _python_closed(url: str, seconds: float, connections: int, prefix: str) -> LoadResult:
    latencies: list[float] = []
    ids: list[int] = []
    counts = {"sent": 0, "ok": 0, "non2xx": 0, "errors": 0}
    deadline = time.monotonic() + seconds
    headers = {"Content-Type": "application/json"}
    start = time.monotonic()
    block = phone_block()

    async def worker(session: aiohttp.ClientSession, wid: int) -> None:
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            counts["sent"] += 1
            bench_id = f"{prefix}-{wid}-{seq}"
            began = time.monotonic()
            try:
                body = lead_body(bench_id, phone(block, wid * 100_000 + seq))
                async with session.post(url, data=body, headers=headers) as response:
                    body = await response.read()
            except (TimeoutError, aiohttp.ClientError):
                counts["errors"] += 1
                continue
            latencies.append((time.monotonic() - began) * 1000)
            if 200 <= response.status < 300:
                counts["ok"] += 1
                match = _LEAD_ID.search(body)
                if match:
                    ids.append(int(match.group(1)))
            else:
                counts["non2xx"] += 1

    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(worker(session, w + 1) for w in range(connections)))
    elapsed = time.monotonic() - start
    pct = percentiles(latencies)
    return LoadResult(
        tool="python-aiohttp",
        seconds=elapsed,
        connections=connections,
        sent=counts["sent"],
        ok=counts["ok"],
        non2xx=counts["non2xx"],
        errors=counts["errors"],
        p50_ms=pct["p50"],
        p90_ms=pct["p90"],
        p99_ms=pct["p99"],
        max_ms=pct["max"],
        lead_ids=ids,
    )


@dataclass
class OpenLoopResult:
    """A fixed-rate run: when each lead's 2xx arrived (wall clock) and how the sender kept up."""

    rate: float
    seconds: float
    sent: int
    answered_2xx: dict[str, float]  # bench_id -> time.time() of the 2xx
    lead_ids: dict[str, int]  # bench_id -> lead id from the answer
    non2xx: int
    errors: int
    response_ms: list[float]
    max_send_lag_ms: float

    def figures(self) -> dict:
        pct = percentiles(self.response_ms)
        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": self.sent,
            "ok": len(self.answered_2xx),
            "non2xx": self.non2xx,
            "errors": self.errors,
            "response_p50_ms": round(pct["p50"], 2),
            "response_p99_ms": round(pct["p99"], 2),
            "max_send_lag_ms": round(self.max_send_lag_ms, 1),
        }


def open_loop(url: str, rate: float, seconds: float, prefix: str) -> OpenLoopResult:
    """Send ``rate`` leads per second for ``seconds``, on schedule, whatever the answers take."""
    return asyncio.run(_open_loop(url, rate, seconds, prefix))


async def _open_loop(url: str, rate: float, seconds: float, prefix: str) -> OpenLoopResult:
    total = int(rate * seconds)
    answered: dict[str, float] = {}
    lead_ids: dict[str, int] = {}
    response_ms: list[float] = []
    counts = {"non2xx": 0, "errors": 0}
    headers = {"Content-Type": "application/json"}
    max_lag = 0.0
    block = phone_block()

    async def send(session: aiohttp.ClientSession, seq: int) -> None:
        bench_id = f"{prefix}-{seq}"
        body = lead_body(bench_id, phone(block, seq))
        began = time.monotonic()
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                body = await resp.read()
        except (TimeoutError, aiohttp.ClientError):
            counts["errors"] += 1
            return
        now = time.time()
        response_ms.append((time.monotonic() - began) * 1000)
        if 200 <= resp.status < 300:
            answered[bench_id] = now
            match = _LEAD_ID.search(body)
            if match:
                lead_ids[bench_id] = int(match.group(1))
        else:
            counts["non2xx"] += 1

    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        tasks = []
        start = time.monotonic()
        for seq in range(total):
            due = start + seq / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay * 1000)
            tasks.append(asyncio.create_task(send(session, seq)))
        await asyncio.gather(*tasks)
    return OpenLoopResult(
        rate=rate,
        seconds=seconds,
        sent=total,
        answered_2xx=answered,
        lead_ids=lead_ids,
        non2xx=counts["non2xx"],
        errors=counts["errors"],
        response_ms=response_ms,
        max_send_lag_ms=max_lag,
    )


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p90/p99/max of ``values`` (nearest rank); zeros when empty."""
    if not values:
        return {"p50": 0.0, "p90": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[index]

    return {"p50": rank(50), "p90": rank(90), "p95": rank(95), "p99": rank(99), "max": ordered[-1]}
