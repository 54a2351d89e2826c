"""Processes of a fault run: each started in its own session, stopped by its own PID.

``start_new_session=True`` makes each process the leader of a new process group whose id is
its PID, so a signal to that group reaches its children (gunicorn and Celery workers) and
nothing else on the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The tool installed beside this Python (``.venv/bin/<name>``), else the one on PATH."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProcError(RuntimeError):
    """A process did not start, or died."""


@dataclass
class Procs:
    """The processes this run started, by name, with their logs under ``logs``."""

    env: dict[str, str]
    logs: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        if name in self.running:
            raise ProcError(f"{name} is already running")
        with (self.logs / f"{name}.log").open("ab") as log:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.running[name] = popen
        print(f"[faults] started {name} (pid {popen.pid})", flush=True)
        return popen

    def pid(self, name: str) -> int:
        return self.running[name].pid

    def stop(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM the process group of ``name``; SIGKILL it when it does not end in time."""
        popen = self.running.pop(name, None)
        if popen is None:
            return
        signal_group(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_group(popen.pid, signal.SIGKILL)
            popen.wait(5)
        signal_group(popen.pid, signal.SIGKILL)  # children that outlived their parent

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group of ``name`` (no chance to clean up)."""
        popen = self.running.pop(name)
        signal_group(popen.pid, signal.SIGKILL)
        popen.wait(10)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

    def check_alive(self, name: str) -> None:
        code = self.running[name].poll()
        if code is not None:
            raise ProcError(f"{name} exited with {code}:\n{tail(self.logs / f'{name}.log')}")

    def wait_http(self, name: str, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive(name)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            time.sleep(0.2)
        raise ProcError(f"{name} did not answer {url}:\n{tail(self.logs / f'{name}.log')}")

    def wait_log(self, name: str, needle: str, timeout: float = 60.0, since: int = 0) -> None:
        """Wait for ``needle`` in the log of ``name`` after byte offset ``since``."""
        path = self.logs / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive(name)
            if needle in path.read_bytes()[since:].decode(errors="replace"):
                return
            time.sleep(0.2)
        raise ProcError(f"{name} did not log {needle!r}:\n{tail(path)}")

    def log_size(self, name: str) -> int:
        path = self.logs / f"{name}.log"
        return path.stat().st_size if path.exists() else 0


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Celery pool processes), read from /proc."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
