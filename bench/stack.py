"""Processes of the benchmark stack: started in their own process group, stopped by PID.

Every process is started with ``subprocess.Popen(start_new_session=True)``, so its PID is also
its process-group id and a stop signal reaches its children (gunicorn, Celery and granian
workers) without touching anything else on the machine. PIDs are written to
``bench/out/pids.json`` while they run. ``Stack.stop_all`` runs on normal exit, on exceptions
and on Ctrl-C / SIGTERM (the harness turns SIGTERM into SystemExit).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent

# Server configurations compared on 2 cores: sync workers (2×cores+1, one request each)
# against threaded workers (requests overlap while one waits on PostgreSQL).
GUNICORN_CONFIGS = [
    {"name": "sync-5", "worker_class": "sync", "workers": 5, "threads": 1},
    {"name": "gthread-2x8", "worker_class": "gthread", "workers": 2, "threads": 8},
    {"name": "gthread-3x4", "worker_class": "gthread", "workers": 3, "threads": 4},
    {"name": "gthread-2x16", "worker_class": "gthread", "workers": 2, "threads": 16},
    {"name": "gthread-4x8", "worker_class": "gthread", "workers": 4, "threads": 8},
]
DEFAULT_CONFIG = GUNICORN_CONFIGS[3]  # config/gunicorn.py's defaults on 2 cores


def venv_tool(name: str) -> str:
    """The tool installed beside this Python (``.venv/bin/<name>``), else the one on PATH."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


class StackError(RuntimeError):
    """A process of the stack did not start or died."""


class Stack:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.procs: dict[str, Proc] = {}
        self.stopped_after: dict[str, float | None] = {}
        OUT.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Proc:
        """Start ``argv`` from the repository root in a new session, output to out/<name>.log."""
        if name in self.procs:
            raise StackError(f"{name} is already running")
        log = OUT / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        handle.close()
        self.procs[name] = Proc(name, popen, log)
        self._write_pids()
        return self.procs[name]

    def stop(self, name: str, timeout: float = 10.0) -> None:
        """SIGTERM the process group of ``name``, SIGKILL it if still alive after ``timeout``."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.popen.wait(5)
        # Children that outlive their parent are still in the group: make sure they go.
        _signal_group(proc.pid, signal.SIGKILL)
        self._write_pids()

    def stop_all(self, timeout: float = 10.0) -> None:
        """SIGTERM every process group at once, SIGKILL what is left after ``timeout``."""
        procs = list(self.procs.values())
        for proc in procs:
            _signal_group(proc.pid, signal.SIGTERM)
        began = time.monotonic()
        deadline = began + timeout
        for proc in procs:
            try:
                proc.popen.wait(max(deadline - time.monotonic(), 0.1))
                self.stopped_after[proc.name] = round(time.monotonic() - began, 1)
            except subprocess.TimeoutExpired:
                self.stopped_after[proc.name] = None  # killed
                _signal_group(proc.pid, signal.SIGKILL)
                proc.popen.wait(5)
            _signal_group(proc.pid, signal.SIGKILL)  # children that outlived their parent
        self.procs.clear()
        self._write_pids()

    def check_alive(self) -> None:
        """Raise StackError naming any process that exited, with the tail of its log."""
        for proc in self.procs.values():
            code = proc.popen.poll()
            if code is not None:
                raise StackError(f"{proc.name} exited with {code}:\n{tail(proc.log)}")

    def wait_http(self, name: str, url: str, timeout: float = 30.0) -> None:
        """Wait until ``url`` answers (any status below 500) while ``name`` stays alive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise StackError(
            f"{name} did not answer {url} within {timeout:.0f}s:\n{tail(self.procs[name].log)}"
        )

    def wait_log(self, name: str, needle: str, timeout: float = 30.0) -> None:
        """Wait until ``needle`` appears in the log of ``name`` (e.g. Celery's 'ready.')."""
        deadline = time.monotonic() + timeout
        log = self.procs[name].log
        while time.monotonic() < deadline:
            self.check_alive()
            if needle in log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise StackError(f"{name} did not log {needle!r} within {timeout:.0f}s:\n{tail(log)}")

    def _write_pids(self) -> None:
        pids = {name: proc.pid for name, proc in self.procs.items()}
        (OUT / "pids.json").write_text(json.dumps(pids))


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn/Celery workers), read from /proc."""
    children: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text().split()
            children += [int(p) for p in text]
    except OSError:
        pass
    return children
