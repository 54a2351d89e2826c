"""The buyer of a fault run: a local HTTP server that records every request it answers.

``/<scenario>`` answers 200 ``{"ok": true}``; while a scenario is *flapping*, its requests are
answered alternately with a 500 and with silence longer than the endpoint's timeout.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    """What the buyer saw for one scenario."""

    answered: Counter = field(default_factory=Counter)  # status → count (0 = held past timeout)
    accepted_keys: Counter = field(default_factory=Counter)  # Idempotency-Key → 200s answered


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A caller that timed out and hung up is this buyer's normal day, not an error."""
        return


class Buyer:
    def __init__(self, hold_seconds: float):
        self.hold_seconds = hold_seconds
        self.flapping: set[str] = set()
        self.seen: dict[str, Seen] = {}
        self._lock = threading.Lock()
        self._turn = itertools.count()
        buyer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                buyer.answer(self)

            def log_message(self, *args):  # quiet
                return

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _record(self, scenario: str, status: int, key: str = "") -> None:
        with self._lock:
            seen = self.seen.setdefault(scenario, Seen())
            seen.answered[status] += 1
            if status == 200:
                seen.accepted_keys[key] += 1

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        scenario = request.path.strip("/").split("/", 1)[0]
        if scenario in self.flapping:
            if next(self._turn) % 2:
                self._record(scenario, 0)
                time.sleep(self.hold_seconds)  # the caller times out first
                request.close_connection = True
                return
            self._send(request, 500, {"error": "flapping"})
            self._record(scenario, 500)
            return
        self._send(request, 200, {"ok": True})
        self._record(scenario, 200, request.headers.get("Idempotency-Key", ""))

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:  # the caller gave up
            request.close_connection = True
