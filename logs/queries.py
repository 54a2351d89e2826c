"""Querysets of the log pages: only the columns a page shows, names joined without secrets."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform

from .models import CallLog, InboundCall

# Wide JSON columns a list never shows.
_CALL_LIST_SKIP = frozenset({"request", "response"})
_INBOUND_LIST_SKIP = frozenset({"headers", "raw_body", "parsed", "response_body", "query"})


def _own_fields(model, skip=frozenset()) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in skip]


def call_logs_with_endpoint(queryset: QuerySet) -> QuerySet:
    """Call logs with ``endpoint.name`` joined, and nothing else of the endpoint.

    Loading whole endpoints would decrypt each one's secrets once per row.
    """
    return queryset.select_related("endpoint").only(*_own_fields(CallLog), "endpoint__name")


def call_log_list_rows(queryset: QuerySet) -> QuerySet:
    """The list pages' rows: no request/response bodies, the HTTP status pulled out in SQL."""
    return (
        queryset.select_related("endpoint")
        .only(*_own_fields(CallLog, _CALL_LIST_SKIP), "endpoint__name")
        .annotate(status_code=KeyTextTransform("status_code", "response"))
    )


def inbound_calls_with_handler(queryset: QuerySet, *, list_only: bool = False) -> QuerySet:
    """Inbound calls with ``handler.name`` joined (not the handler's secret)."""
    skip = _INBOUND_LIST_SKIP if list_only else frozenset()
    return queryset.select_related("handler").only(*_own_fields(InboundCall, skip), "handler__name")
