"""Real Celery processes for the integration tests, stopped by their process-group id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# This test session's broker queue (see worker_settings.py).
QUEUE = f"deliveries-test-{uuid.uuid4().hex[:12]}"


def database_url_of_this_test_run() -> str:
    """The URL of the database this test run uses (pytest-django's test_… database)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class CeleryProcess:
    """``celery -A config worker|beat …`` against the test database and Redis."""

    def __init__(self, log_dir: Path, *args: str, env: dict[str, str] | None = None):
        self.name = f"deliveries-test-{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.args = list(args)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "deliveries.tests.worker_settings",
            "HUB_TEST_TASK_QUEUE": QUEUE,
            "DATABASE_URL": database_url_of_this_test_run(),
            "REDIS_URL": settings.REDIS_URL,
            "HUB_TASKS_EAGER": "0",
            "HUB_ALLOW_PRIVATE_DESTINATIONS": "true",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> CeleryProcess:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: pool children die with it
        )
        return self

    def wait_for_log(self, text: str, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {text!r}:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9 the whole process group (main process and pool children) at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        # Shown by pytest when the test failed.
        print(f"--- {self.name} log (tail) ---\n{self.log()[-4000:]}")


def worker(log_dir: Path, *extra: str, env: dict[str, str] | None = None) -> CeleryProcess:
    """A started prefork worker with two children; ready when it says so."""
    proc = CeleryProcess(
        log_dir,
        "worker",
        "--pool=prefork",
        "--concurrency=2",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{uuid.uuid4().hex[:8]}@%h",
        *extra,
        env=env,
    ).start()
    proc.wait_for_log(" ready.")
    return proc


def beat(log_dir: Path) -> CeleryProcess:
    return CeleryProcess(
        log_dir,
        "beat",
        "--loglevel=INFO",
        "-s",
        str(log_dir / "celerybeat-schedule"),
    ).start()
