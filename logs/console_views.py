"""Console pages of the logs: lists, the "Input Data" views, notification history, stats.

Every view runs behind ``console_site.admin_view`` (a logged-in member) and reads through
``for_tenant``: another tenant's id is a 404. Dates are shown in the tenant's time zone.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl, urlencode

from django.apps import apps
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from tenants.console import console_site

from . import charts
from .api.serializers import InboundCallSerializer
from .filtersets import CallLogFilterSet, InboundCallFilterSet
from .models import CallLog, InboundCall
from .paging import Window, page_window, parse_page
from .queries import call_log_list_rows, inbound_calls_with_handler
from .redact import SecretScrubber, endpoint_secret_values, safe_request, safe_response
from .stats import PeriodError, call_stats, inbound_stats, parse_period
from .zones import tenant_zone

PAGE_SIZES = (20, 50, 100, 200, 500, 1000)
DEFAULT_PAGE_SIZE = 50
OUTCOME_COLOURS = {"accepted": "#2e7d32", "rejected": "#ef6c00", "errors": "#c62828"}
INBOUND_COLOURS = {
    "success": "#2e7d32",
    "duplicate": "#1565c0",
    "ignored": "#9e9e9e",
    "errors": "#c62828",
}


def _page_request(request) -> tuple[int, int]:
    """(page, size) from the query string; anything odd falls back to page 1 / 50 rows."""
    try:
        size = int(request.GET.get("page_size") or DEFAULT_PAGE_SIZE)
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    if size not in PAGE_SIZES:
        size = DEFAULT_PAGE_SIZE
    try:
        page = parse_page(request.GET.get("page"))
    except ValueError:
        page = 1
    return page, size


def _query(request, **changes) -> str:
    """The current query string with ``changes`` applied (None removes a key)."""
    params = {k: v for k, v in request.GET.items() if v != ""}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(params)


def _page(request, filterset, rows_queryset) -> tuple[Window, bool]:
    page, size = _page_request(request)
    if not filterset.is_valid():
        return Window([], 1, size, False, 0, True), False
    return page_window(rows_queryset(filterset.qs), page, size), True


def _render(request, template: str, title: str, context: dict) -> TemplateResponse:
    # Links such as {% url 'admin:index' %} resolve inside the console, not the platform admin.
    request.current_app = console_site.name
    zone = tenant_zone(request.tenant)
    return TemplateResponse(
        request,
        template,
        {
            **console_site.each_context(request),
            "title": title,
            "zone": zone,
            "zone_name": zone.key,
            "page_sizes": PAGE_SIZES,
            "hidden_filters": [],
            **context,
        },
    )


def _pager(request, window: Window) -> dict:
    return {
        "window": window,
        "next_query": _query(request, page=window.page + 1) if window.has_next else None,
        "previous_query": (
            _query(request, page=(window.page - 1) if window.page > 2 else None)
            if window.has_previous
            else None
        ),
    }


def _tenant_object(model_label: str, request, pk):
    model = apps.get_model(model_label)
    return get_object_or_404(model.objects.for_tenant(request.tenant), pk=_int_id(pk))


def _int_id(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise Http404("Not found") from exc


# --- outbound -----------------------------------------------------------------------------


def call_log_list(request) -> TemplateResponse:
    """All call logs, or one endpoint's (``?endpoint=ID``), with the shared filters."""
    filterset = CallLogFilterSet(
        request.GET, queryset=CallLog.objects.for_tenant(request.tenant), request=request
    )
    window, valid = _page(request, filterset, call_log_list_rows)
    endpoint = filterset.form.cleaned_data.get("endpoint") if valid else None
    title = f"Call logs — {endpoint.name}" if endpoint else "Call logs"
    return _render(
        request,
        "logs/calllog_list.html",
        title,
        {
            "filterset": filterset,
            "endpoint": endpoint,
            "export_query": _query(request, page=None, page_size=None),
            **_pager(request, window),
        },
    )


def endpoint_history(request, pk) -> TemplateResponse:
    """Notification history of one endpoint: when, status, HTTP code, error message."""
    endpoint = _tenant_object("endpoints.Endpoint", request, pk)
    data = request.GET.copy()
    data["endpoint"] = str(endpoint.pk)
    filterset = CallLogFilterSet(
        data, queryset=CallLog.objects.for_tenant(request.tenant), request=request
    )
    window, _ = _page(request, filterset, call_log_list_rows)
    return _render(
        request,
        "logs/endpoint_history.html",
        f"Notification history — {endpoint.name}",
        {
            "endpoint": endpoint,
            "filterset": filterset,
            "hidden_filters": ["endpoint", "phone", "q"],
            **_pager(request, window),
        },
    )


def _parameters(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True)
    except ValueError:
        return []


def call_log_detail(request, object_id) -> TemplateResponse:
    """ "Input Data": the complete URL and parameter string as sent, headers, the response."""
    log = get_object_or_404(
        CallLog.objects.for_tenant(request.tenant).select_related("endpoint"),
        pk=_int_id(object_id),
    )
    scrub = SecretScrubber(endpoint_secret_values(log.endpoint))
    sent = safe_request(log.request, scrub)
    received = safe_response(log.response, scrub)
    url = str(sent.get("url") or "")
    query = url.partition("?")[2].partition("#")[0]
    body = sent.get("body") or ""
    form_body = body if isinstance(body, str) and "=" in body and "\n" not in body else ""
    return _render(
        request,
        "logs/calllog_detail.html",
        f"Call log {log.pk} — Input Data",
        {
            "log": log,
            "sent": sent,
            "received": received,
            "url": url,
            "query": query,
            "query_parameters": _parameters(query),
            "body_parameters": _parameters(form_body) if form_body else [],
            "request_headers": sorted((sent.get("headers") or {}).items()),
            "response_headers": sorted((received.get("headers") or {}).items()),
        },
    )


def _calls_url(name: str, *, period, **filters) -> str:
    """A log list filtered to ``filters`` over the period's days (tenant-local dates)."""
    after = period.first.isoformat()
    before = (period.last + dt.timedelta(days=1)).isoformat()
    query = urlencode({**filters, "created_after": after, "created_before": before})
    return f"{reverse(name)}?{query}"


def _period_or_error(request):
    zone = tenant_zone(request.tenant)
    try:
        return parse_period(request.GET.get("since"), request.GET.get("until"), zone), None
    except PeriodError as exc:
        return parse_period(None, None, zone), f"{exc.field}: {exc.message}"


def endpoint_stats_page(request, pk) -> TemplateResponse:
    """Performance of one endpoint over a period: totals, rates, avg/p95 and a daily chart."""
    endpoint = _tenant_object("endpoints.Endpoint", request, pk)
    period, error = _period_or_error(request)
    stats = call_stats(CallLog.objects.for_tenant(request.tenant).filter(endpoint=endpoint), period)
    labels = [row["date"][5:] for row in stats["series"]]
    volume = charts.stacked_bars(
        labels,
        [
            (name.capitalize(), colour, [row[name] for row in stats["series"]])
            for name, colour in OUTCOME_COLOURS.items()
        ],
        label=f"Calls per day to {endpoint.name}",
    )
    timing = charts.lines(
        labels,
        [
            ("Average", "#1565c0", [row["avg_response_ms"] for row in stats["series"]]),
            ("p95", "#6a1b9a", [row["p95_response_ms"] for row in stats["series"]]),
        ],
        label=f"Response time per day of {endpoint.name}",
        unit=" ms",
    )
    calls_url = _calls_url("console:logs_calllog_changelist", endpoint=endpoint.pk, period=period)
    return _render(
        request,
        "logs/endpoint_stats.html",
        f"Performance — {endpoint.name}",
        {
            "endpoint": endpoint,
            "period": period,
            "period_error": error,
            "stats": stats,
            "volume_chart": volume,
            "timing_chart": timing,
            "calls_url": calls_url,
        },
    )


# --- inbound ------------------------------------------------------------------------------


def inbound_call_list(request) -> TemplateResponse:
    """Every inbound call of the tenant, or one handler's, with the shared filters."""
    filterset = InboundCallFilterSet(
        request.GET, queryset=InboundCall.objects.for_tenant(request.tenant), request=request
    )
    window, valid = _page(
        request, filterset, lambda qs: inbound_calls_with_handler(qs, list_only=True)
    )
    handler = filterset.form.cleaned_data.get("handler") if valid else None
    return _render(
        request,
        "logs/inboundcall_list.html",
        f"Inbound calls — {handler.name}" if handler else "Inbound calls",
        {
            "filterset": filterset,
            "handler": handler,
            **_pager(request, window),
        },
    )


def inbound_call_detail(request, object_id) -> TemplateResponse:
    """What arrived at the hook (headers masked, raw body, parsed values) and what was answered."""
    call = get_object_or_404(
        InboundCall.objects.for_tenant(request.tenant).select_related("handler"),
        pk=_int_id(object_id),
    )
    shown = InboundCallSerializer(call).data
    return _render(
        request,
        "logs/inboundcall_detail.html",
        f"Inbound call {call.pk}",
        {
            "call": call,
            "shown": shown,
            "headers": sorted(shown["headers"].items()),
            "parsed_json": json.dumps(shown["parsed"], indent=2, ensure_ascii=False),
            "query_parameters": _parameters(shown["query"]),
        },
    )


def handler_stats_page(request, pk) -> TemplateResponse:
    """Counts and rates per status of one inbound handler over a period, with a daily chart."""
    handler = _tenant_object("inbound.InboundHandler", request, pk)
    period, error = _period_or_error(request)
    stats = inbound_stats(
        InboundCall.objects.for_tenant(request.tenant).filter(handler=handler), period
    )
    labels = [row["date"][5:] for row in stats["series"]]
    volume = charts.stacked_bars(
        labels,
        [
            (name.capitalize(), colour, [row[name] for row in stats["series"]])
            for name, colour in INBOUND_COLOURS.items()
        ],
        label=f"Calls per day to {handler.name}",
    )
    return _render(
        request,
        "logs/handler_stats.html",
        f"Performance — {handler.name}",
        {
            "handler": handler,
            "period": period,
            "period_error": error,
            "stats": stats,
            "volume_chart": volume,
            "calls_url": _calls_url(
                "console:logs_inboundcall_changelist", handler=handler.pk, period=period
            ),
        },
    )
