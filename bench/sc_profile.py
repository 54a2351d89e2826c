"""Where the CPU goes on the ingest and deliver paths (py-spy), in runs of their own.

Sampling slows the sampled processes, so these runs are never the measured ones: they repeat
the ingest load (gunicorn sampled) and a smaller drain (Celery worker and dispatcher sampled)
after the scenarios, and report the share of samples per package and per project function.
"""

from __future__ import annotations

from . import loadgen, sc_deliver
from .context import Ctx, Row
from .profiling import Sampler


def _row(name: str, summary: dict) -> Row:
    packages = summary.get("self_by_package_pct", {})
    top = ", ".join(f"{k} {v}%" for k, v in list(packages.items())[:6])
    return Row(
        "profile",
        f"{name}: CPU samples by package",
        float(summary.get("samples", 0)),
        "samples",
        note=top or summary.get("error", ""),
    )


def run(ctx: Ctx, with_hooks: bool) -> None:
    profiles = {}
    seconds = 3 if ctx.sizes.quick else 10
    if with_hooks:
        sampler = Sampler("ingest", ctx.stack.procs["gunicorn"].pid)
        try:
            url = ctx.web + ctx.fixture.handlers["ingest"]
            loadgen.closed_loop(url, seconds, ctx.sizes.ingest_connections, "profile-ingest")
        finally:
            profiles["ingest"] = sampler.stop()
        ctx.rows.append(_row("ingest (gunicorn)", profiles["ingest"]))
    samplers = [Sampler("deliver-worker", ctx.stack.procs["worker"].pid)]
    if "dispatcher" in ctx.stack.procs:
        samplers.append(Sampler("deliver-dispatcher", ctx.stack.procs["dispatcher"].pid))
    try:
        count = 500 if ctx.sizes.quick else 5000
        profiles["deliver_run"] = sc_deliver.measure_drain(ctx, count, "profile-deliver")
    finally:
        for sampler in samplers:
            profiles[sampler.name] = sampler.stop()
    for sampler in samplers:
        ctx.rows.append(_row(sampler.name, profiles[sampler.name]))
    ctx.details["profile"] = profiles
