"""A buyer for tests: a threaded local HTTP server that records requests and answers a script.

``script(path, [(status, body), …])`` answers requests to ``path`` in order (the last answer
repeats); ``HOLD`` as an answer makes that request wait until ``release(path)`` (a hanging
buyer). Each request is recorded with its headers, body and arrival time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOLD = "hold"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self._scripts: dict[str, list] = {}
        self._holds: dict[str, threading.Event] = {}
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                receiver._handle(self)

            do_GET = do_PUT = do_PATCH = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def script(self, path: str, answers: list) -> None:
        with self._cond:
            self._scripts[path] = list(answers)
            self._holds.setdefault(path, threading.Event())

    def release(self, path: str) -> None:
        self._holds.setdefault(path, threading.Event()).set()

    def received(self, path: str | None = None) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 20.0) -> list:
        """Block until ``count`` requests (to ``path``) arrived; answer them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._matching(path)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} requests to {path}, got {len(self._matching(path))}"
                    )
                self._cond.wait(left)
            return self._matching(path)

    def _matching(self, path):
        return [r for r in self.requests if path is None or r.path == path]

    def close(self) -> None:
        for event in self._holds.values():
            event.set()
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        with self._cond:
            self.requests.append(
                Received(path, dict(handler.headers.items()), body, time.monotonic())
            )
            answers = self._scripts.get(path) or [(200, b'{"status": "ok"}')]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            self._cond.notify_all()
        if answer == HOLD:
            self._holds[path].wait(60)
            answer = (200, b'{"status": "ok"}')
        status, payload = answer
        payload = payload if isinstance(payload, bytes) else payload.encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:  # the client gave up (timeout) or died; nothing to answer
            pass
