"""py-spy sampling of a running process tree, summarised as "where the CPU went".

``Sampler`` starts ``py-spy record --gil --format raw`` on a PID (with its subprocesses:
gunicorn or Celery workers) and stops it with SIGINT, which makes py-spy write its collapsed
stacks. ``--gil`` keeps only samples of the thread holding the GIL: Python CPU time, which is
what competes for the two cores (py-spy's idle detection alone lets waiting threads through).
``summarize`` turns those stacks into the share of samples per package (by the leaf frame's
file: self time) and the project functions with the most inclusive samples.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

from .stack import OUT, ROOT, venv_tool

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")
PROJECT_APPS = ("adaptors", "bench", "config", "deliveries", "endpoints", "inbound", "leads")
PROJECT_APPS += ("logs", "sandbox", "tenants")


class Sampler:
    def __init__(self, name: str, pid: int, rate: int = 100):
        self.name = name
        self.path = OUT / f"profile-{name}.txt"
        argv = [venv_tool("py-spy"), "record", "--pid", str(pid), "--subprocesses"]
        argv += ["--gil", "--rate", str(rate), "--format", "raw", "-o", str(self.path)]
        argv += ["--duration", "600"]
        self.log = (OUT / f"profile-{name}.log").open("wb")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> dict:
        """Stop sampling (SIGINT: py-spy then writes its file) and summarise."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGINT)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        self.log.close()
        if not self.path.exists():
            return {"error": f"py-spy wrote nothing; see {self.path.with_suffix('.log').name}"}
        return summarize(self.path)


def _package(path: str) -> str:
    """A short owner for a source file: project app, site-packages package or stdlib module."""
    if "site-packages/" in path:
        rest = path.split("site-packages/", 1)[1]
        return rest.split("/", 1)[0].removesuffix(".py")
    root = str(ROOT) + "/"
    if path.startswith(root):
        path = path[len(root) :]
    head = path.split("/", 1)[0]
    if head in PROJECT_APPS:
        return f"[{head}]"
    if "/lib/python" in path:
        return "stdlib:" + Path(path).stem
    return head or "?"


def _parse(line: str) -> tuple[list[tuple[str, str]], int]:
    stack, _, count = line.rpartition(" ")
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw)
        if match:
            frames.append((match["func"], match["file"]))
        else:
            frames.append((raw, ""))
    return frames, int(count)


def summarize(path: Path, top: int = 15) -> dict:
    """Self samples per package and the project functions with most inclusive samples."""
    by_package: Counter[str] = Counter()
    project_inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            frames, count = _parse(line)
        except ValueError:
            continue
        total += count
        leaf = next((f for f in reversed(frames) if f[1]), frames[-1])
        by_package[_package(leaf[1])] += count
        seen = set()
        for func, file in frames:
            owner = _package(file)
            if owner.startswith("[") and owner != "[bench]":
                key = f"{owner[1:-1]}:{Path(file).stem}.{func}"
                if key not in seen:
                    seen.add(key)
                    project_inclusive[key] += count
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "self_by_package_pct": {
            k: round(100 * v / total, 1) for k, v in by_package.most_common(top)
        },
        "project_inclusive_pct": {
            k: round(100 * v / total, 1) for k, v in project_inclusive.most_common(top)
        },
        "raw": path.name,
    }
