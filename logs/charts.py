"""Small server-side SVG charts (no JavaScript, no CDN): stacked daily bars and daily lines.

Every piece of text is escaped; numbers are formatted here; the result is safe to embed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Series = tuple[str, str, Sequence[float | None]]  # (name, colour, one value per label)

_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 28, 34
_FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#555"'


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/5 × 10^n at or above ``value`` (1 for nothing), for a readable axis."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or value >= 100 else f"{value:,.1f}"


def _frame(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="logs-chart" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet">' + "".join(body) + "</svg>"
    )


def _axes(width: int, height: int, top: float, unit: str) -> list[str]:
    """Horizontal grid lines at 0, half and top of the scale, with their values."""
    parts = []
    plot_h = height - _TOP - _BOTTOM
    for fraction in (0, 0.5, 1):
        y = _TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>'
            f"{escape(_number(top * fraction))}{escape(unit)}</text>"
        )
    return parts


def _x_labels(labels: Sequence[str], width: int, height: int) -> list[str]:
    count = len(labels)
    slot = (width - _LEFT - _RIGHT) / max(count, 1)
    every = max(1, math.ceil(count / 10))
    return [
        f'<text x="{_LEFT + slot * (i + 0.5):.1f}" y="{height - _BOTTOM + 16}" '
        f'text-anchor="middle" {_FONT}>{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], _LEFT
    for name, colour, _ in series:
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{escape(colour)}"/>'
            f'<text x="{x + 14}" y="17" {_FONT}>{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return parts


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    width: int = 720,
    height: int = 220,
) -> SafeString:
    """One bar per label, its segments stacked in ``series`` order; hover shows each value."""
    totals = [sum((s[2][i] or 0) for s in series) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    plot_h = height - _TOP - _BOTTOM
    slot = (width - _LEFT - _RIGHT) / max(len(labels), 1)
    bar = max(1.0, slot * 0.7)
    body = [*_axes(width, height, top, ""), *_legend(series)]
    for i, day in enumerate(labels):
        x = _LEFT + slot * i + (slot - bar) / 2
        base = _TOP + plot_h
        for name, colour, values in series:
            value = values[i] or 0
            if not value:
                continue
            h = plot_h * value / top
            base -= h
            body.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{escape(colour)}"><title>{escape(day)} {escape(name)}: '
                f"{escape(_number(value))}</title></rect>"
            )
    body += _x_labels(labels, width, height)
    return _frame(width, height, label, body)


def lines(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    unit: str = "",
    width: int = 720,
    height: int = 220,
) -> SafeString:
    """One line per series across the labels; gaps where a value is None."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = nice_ceiling(max(values, default=0))
    plot_h = height - _TOP - _BOTTOM
    slot = (width - _LEFT - _RIGHT) / max(len(labels), 1)
    body = [*_axes(width, height, top, unit), *_legend(series)]
    for name, colour, points in series:
        run: list[str] = []
        for i, value in enumerate([*points, None]):
            if value is None:
                if len(run) > 1:
                    body.append(
                        f'<polyline points="{" ".join(run)}" fill="none" '
                        f'stroke="{escape(colour)}" stroke-width="2"/>'
                    )
                run = []
                continue
            x = _LEFT + slot * (i + 0.5)
            y = _TOP + plot_h * (1 - value / top)
            run.append(f"{x:.1f},{y:.1f}")
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{escape(colour)}">'
                f"<title>{escape(labels[i])} {escape(name)}: {escape(_number(value))}"
                f"{escape(unit)}</title></circle>"
            )
    body += _x_labels(labels, width, height)
    return _frame(width, height, label, body)
