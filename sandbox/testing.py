"""Run the embedded demo (``manage.py rundemo``) in a subprocess, for end-to-end tests.

Used by the embedded smoke test and the browser suite: a fresh SQLite file (or the database
given), no Redis, the demo's own defaults for everything else — what ``make run`` gives a new
operator. The process is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Variables of the test process that must not leak into the demo: it decides these itself.
_SCRUBBED = (
    "REDIS_URL",
    "HUB_ALLOW_PRIVATE_DESTINATIONS",
    "HUB_EMBEDDED_ENGINE",
    "HUB_TASKS_EAGER",
)


def wait_for(check, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Call ``check`` until it answers something truthy; answer that, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}.")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoServer:
    """``with DemoServer() as demo:`` starts the demo and waits until /healthz answers.

    ``demo.info`` is the JSON line rundemo printed (login, password, api_key, hook_url, ids…),
    ``demo.base_url`` the server's address, ``demo.env`` the environment it runs with (for
    running other management commands against the same database).
    """

    def __init__(self, database_url: str | None = None, startup_timeout: float = 90.0):
        self._tmp = tempfile.TemporaryDirectory(prefix="hub-demo-")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or f"sqlite:///{self._tmp.name}/db.sqlite3"
        self.log_path = Path(self._tmp.name) / "rundemo.log"
        self.startup_timeout = startup_timeout
        self.env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.base",
                "DATABASE_URL": self.database_url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.process: subprocess.Popen | None = None
        self.info: dict = {}

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo", "--port", str(self.port), "--json"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rundemo exited with {self.process.returncode}:\n{self.log()}")
            if not self.info:
                self.info = self._read_info()
            if self.info and self._healthy():
                return
            time.sleep(0.2)
        raise RuntimeError(f"rundemo did not answer /healthz in time:\n{self.log()}")

    def _read_info(self) -> dict:
        for line in self.log().splitlines():
            if line.startswith("{"):
                return json.loads(line)
        return {}

    def _healthy(self) -> bool:
        """Our /healthz answers (it reports the database); another process that grabbed the
        port in the meantime does not count, and rundemo then exits on the bind error."""
        try:
            response = httpx.get(f"{self.base_url}/healthz", timeout=2)
            return response.status_code == 200 and "database" in response.json()
        except (httpx.HTTPError, ValueError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, check, timeout: float = 30.0, what: str = "condition"):
        """``wait_for`` that shows the end of the server's log when it times out."""
        try:
            return wait_for(check, timeout=timeout, what=what)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\n--- rundemo log (end) ---\n{self.log()[-4000:]}"
            ) from None

    def api(self) -> httpx.Client:
        """An API client authenticated with the demo's printed key."""
        return httpx.Client(
            base_url=f"{self.base_url}/api/v1",
            headers={"Authorization": f"Bearer {self.info['api_key']}"},
            timeout=15,
        )

    def manage(self, *args: str, timeout: float = 60) -> str:
        """Run another management command against the demo's database; answers its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
        self._tmp.cleanup()
