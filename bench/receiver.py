"""The benchmark's buyer: a bare ASGI app (served by granian) that answers fast and records.

Routes:
- ``POST /r/<sink>``: answers 200 ``{"status": "ok"}`` at once and records the arrival: a
  count per sink, the distinct ``Idempotency-Key`` values (to spot duplicate deliveries) and,
  when the JSON body has a ``bench_id``, its arrival time (``time.time()``, comparable with
  the load generator's clock on the same machine).
- ``POST /hang/<sink>``: records the arrival, then holds the request open for ``HANG_SECONDS``
  (longer than any endpoint timeout) — a buyer that hangs.
- ``GET /_stats``: ``{sink: {"count", "distinct_keys", "first", "last"}}``.
- ``GET /_arrivals/<sink>``: ``{bench_id: arrival time}`` (first arrival of each id).
- ``POST /_reset``: forgets everything.

State lives in the one worker process, so granian must run it with ``--workers 1``.
No framework: per-request overhead must stay far below the hub's so the receiver never is
the bottleneck being measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field

HANG_SECONDS = float(os.environ.get("BENCH_HANG_SECONDS", "45"))
_OK = b'{"status": "ok"}'
_JSON = [(b"content-type", b"application/json")]


@dataclass
class Sink:
    count: int = 0
    keys: set[str] = field(default_factory=set)
    arrivals: dict[str, float] = field(default_factory=dict)
    first: float | None = None
    last: float | None = None

    def record(self, now: float, key: str, body: bytes) -> None:
        self.count += 1
        if key:
            self.keys.add(key)
        if self.first is None:
            self.first = now
        self.last = now
        if b"bench_id" in body:
            bench_id = _bench_id(body)
            if bench_id and bench_id not in self.arrivals:
                self.arrivals[bench_id] = now

    def summary(self) -> dict:
        return {
            "count": self.count,
            "distinct_keys": len(self.keys),
            "first": self.first,
            "last": self.last,
        }


_sinks: dict[str, Sink] = {}


def _bench_id(body: bytes) -> str:
    """The ``bench_id`` of a JSON body, looked for at the top level and one level down."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    if "bench_id" in data:
        return str(data["bench_id"])
    for value in data.values():
        if isinstance(value, dict) and "bench_id" in value:
            return str(value["bench_id"])
    return ""


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = await _read_body(receive)
    now = time.time()
    if path.startswith("/r/") or path.startswith("/hang/"):
        name = path.split("/", 2)[2] or "default"
        _sinks.setdefault(name, Sink()).record(now, _header(scope, b"idempotency-key"), body)
        if path.startswith("/hang/"):
            await asyncio.sleep(HANG_SECONDS)
        await _answer(send, 200, _OK)
    elif path == "/_stats":
        stats = {name: sink.summary() for name, sink in _sinks.items()}
        await _answer(send, 200, json.dumps(stats).encode())
    elif path.startswith("/_arrivals/"):
        sink = _sinks.get(path.split("/", 2)[2], Sink())
        await _answer(send, 200, json.dumps(sink.arrivals).encode())
    elif path == "/_reset":
        _sinks.clear()
        await _answer(send, 200, _OK)
    else:
        await _answer(send, 404, b'{"status": "not found"}')
