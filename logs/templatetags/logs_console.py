"""Template helpers of the log pages and the console front page."""

from __future__ import annotations

from django import template

from ..dashboard import INBOUND_ORDER, OUTCOME_ORDER, today_links
from ..dashboard import today_summary as build_today_summary

register = template.Library()


@register.filter
def thousands(value) -> str:
    """1234567 → "1,234,567"; None → "—"."""
    if value is None or value == "":
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value) -> str:
    """0.1234 → "12.3%"; None (no data) → "—"."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


@register.filter
def milliseconds(value) -> str:
    """231.4 → "231 ms"; None → "—"."""
    if value is None:
        return "—"
    return f"{float(value):,.0f} ms"


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` or 0: counts by status in templates."""
    try:
        return mapping.get(key, 0)
    except AttributeError:
        return 0


@register.simple_tag(takes_context=True)
def today_summary(context):
    """Today's numbers for the request's tenant, or None outside a tenant."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    today = build_today_summary(tenant)
    return {
        "today": today,
        "links": today_links(today),
        "outcomes": OUTCOME_ORDER,
        "inbound_statuses": INBOUND_ORDER,
    }
