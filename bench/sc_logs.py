"""Scenario 5, logs: figures from the logs engineer's ``bench/logs_bench.py`` as table rows.

That script writes ``bench/out/logs.json``. Rows it gives in this harness's shape (a ``rows``
list of {scenario, metric, value, unit, baseline?, baseline_name?, target?, met?, note?}) are
taken as they are; otherwise every top-level number becomes a row, so no figure is dropped.
"""

from __future__ import annotations

from .context import Row

_FIELDS = ("scenario", "metric", "value", "unit", "baseline", "baseline_name", "target", "met")


def rows_from(data: dict | None) -> list[Row]:
    if not data:
        return []
    if "skipped" in data or "error" in data:
        return [Row("5 logs", "not run", None, "", note=str(data.get("skipped") or data["error"]))]
    rows = []
    for item in data.get("rows", []):
        known = {k: item[k] for k in _FIELDS if k in item}
        known.setdefault("scenario", "5 logs")
        known.setdefault("metric", "?")
        known.setdefault("value", None)
        known.setdefault("unit", "")
        rows.append(Row(**known, note=str(item.get("note", ""))))
    if rows:
        return rows
    for key, value in data.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            rows.append(Row("5 logs", key, float(value), ""))
    return rows
