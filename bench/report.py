"""results.json and the Markdown table (results.md) of a benchmark run."""

from __future__ import annotations

import json
from pathlib import Path

from .context import Row


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def _met(met: bool | None) -> str:
    return {True: "✅ met", False: "❌ missed", None: ""}[met]


def markdown(meta: dict, rows: list[Row], skipped: dict[str, str]) -> str:
    lines = [
        f"## Benchmark ({'quick' if meta['quick'] else 'full'}) — {meta['finished']}",
        "",
        f"Machine: {meta['machine']['cpus']} CPUs, busy {meta['machine']['busy_before_pct']:.0f}% "
        f"before the run (load avg {meta['machine']['loadavg_before']} → "
        f"{meta['machine']['loadavg_after']}); gunicorn {meta.get('gunicorn', {}).get('name', '?')}; "
        f"load generator {meta['load_generator']}; settings {meta.get('settings', {})}. "
        "CPU cores in the notes: who used the 2 CPUs during that measurement.",
        "",
        "| Scenario | Metric | Measured | Baseline | Ratio | Target | Result | Note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row.ratio
        baseline = _num(row.baseline, row.unit)
        if row.baseline_name and row.baseline is not None:
            baseline += f" ({row.baseline_name})"
        cells = [
            row.scenario,
            row.metric,
            _num(row.value, row.unit),
            baseline if row.baseline is not None else "—",
            "—" if ratio is None else f"{ratio:.2f}×",
            row.target or "—",
            _met(row.met),
            row.note.replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for name, reason in skipped.items():
        lines.append(
            f"| {name} | — | not run | — | — | — | ⚠️ skipped | {reason.replace('|', '/')} |"
        )
    lines.append("")
    return "\n".join(lines)


def write(directory: Path, meta: dict, rows: list[Row], details: dict, skipped: dict) -> str:
    """Write results.json and results.md into ``directory``; answer the Markdown."""
    table = markdown(meta, rows, skipped)
    payload = {
        "meta": meta,
        "rows": [row.as_dict() for row in rows],
        "skipped": skipped,
        "details": details,
    }
    (directory / "results.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (directory / "results.md").write_text(table)
    return table
