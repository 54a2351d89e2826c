"""Console pages of one handler: its calls, one call (Form and Raw views), posting instructions.

Every view is wrapped with ``console_site.admin_view`` (members only) and reads the handler
through the member's tenant, so another tenant's handler or call is a 404.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from logs.models import InboundCall
from tenants.console import console_site

from .filtersets import InboundCallFilterSet
from .models import InboundHandler
from .spec import build_spec

CALLS_PER_PAGE = 50


def _handler(request: HttpRequest, pk: int) -> InboundHandler:
    return get_object_or_404(InboundHandler.objects.for_tenant(request.tenant), pk=pk)


def _context(request: HttpRequest, handler: InboundHandler, title: str, **extra) -> dict:
    return {
        **console_site.each_context(request),
        "title": title,
        "handler": handler,
        "handler_url": reverse("console:inbound_inboundhandler_change", args=[handler.pk]),
        "handlers_url": reverse("console:inbound_inboundhandler_changelist"),
        **extra,
    }


def calls(request: HttpRequest, pk: int) -> HttpResponse:
    """The handler's calls, newest first: last 7 days by default, filterable, paginated."""
    handler = _handler(request, pk)
    filterset = InboundCallFilterSet(
        request.GET,
        queryset=InboundCall.objects.for_tenant(request.tenant).filter(handler=handler),
    )
    # An invalid filter value is shown as a form error and left out of the filtering.
    page = Paginator(
        filterset.qs.only(
            "id",
            "created_at",
            "method",
            "status",
            "client_ip",
            "response_status",
            "error",
            "lead_id",
        ),
        CALLS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inbound/calls.html",
        _context(
            request,
            handler,
            f"Calls of {handler.name}",
            filterset=filterset,
            page=page,
            query=query.urlencode(),
        ),
    )


def call_detail(request: HttpRequest, pk: int, call_id: int) -> HttpResponse:
    """One call: the request as a parsed table (Form view) and as received (Raw view)."""
    handler = _handler(request, pk)
    call = get_object_or_404(
        InboundCall.objects.for_tenant(request.tenant).filter(handler=handler), pk=call_id
    )
    parsed = sorted(
        (str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in (call.parsed or {}).items()
    )
    return render(
        request,
        "inbound/call_detail.html",
        _context(
            request,
            handler,
            f"Call {call.pk}",
            call=call,
            parsed=parsed,
            headers=sorted((call.headers or {}).items()),
            calls_url=reverse("inbound-console-calls", args=[handler.pk]),
            lead_url=(
                reverse("console:leads_lead_change", args=[call.lead_id]) if call.lead_id else ""
            ),
        ),
    )


def instructions(request: HttpRequest, pk: int) -> HttpResponse:
    """Posting instructions to hand to a lead supplier (same content as the spec API)."""
    handler = _handler(request, pk)
    spec = build_spec(handler, request)
    return render(
        request,
        "inbound/instructions.html",
        _context(
            request,
            handler,
            f"Posting instructions: {handler.name}",
            spec=spec,
            spec_json=json.dumps(spec, indent=2),
        ),
    )


calls_view = console_site.admin_view(calls)
call_detail_view = console_site.admin_view(call_detail)
instructions_view = console_site.admin_view(instructions)
