"""Builders for log rows in tests (InboundCall.created_at is auto_now_add: set it afterwards)."""

from __future__ import annotations

import datetime as dt

from logs.models import CallLog, InboundCall
from tests.factories import CallLogFactory, EndpointFactory, InboundHandlerFactory

UTC = dt.UTC


def at(year, month, day, hour=12, minute=0, second=0) -> dt.datetime:
    """An aware UTC instant."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def call(tenant, **fields) -> CallLog:
    """A call log of ``tenant`` (a fresh endpoint of that tenant unless one is given)."""
    fields.setdefault("endpoint", fields.get("endpoint") or EndpointFactory(tenant=tenant))
    return CallLogFactory(tenant=tenant, **fields)


def inbound(
    tenant, *, created_at: dt.datetime | None = None, handler=None, **fields
) -> InboundCall:
    """An inbound call of ``tenant``; ``created_at`` is written after the insert."""
    handler = handler or InboundHandlerFactory(tenant=tenant)
    values = {
        "method": "POST",
        "status": "success",
        "headers": {"Content-Type": "application/json"},
        "raw_body": '{"phone": "4155550100"}',
        "parsed": {"phone": "4155550100"},
        "response_status": 201,
        "response_body": '{"status": "accepted"}',
        **fields,
    }
    row = InboundCall.objects.create(tenant=tenant, handler=handler, **values)
    if created_at is not None:
        InboundCall.objects.filter(pk=row.pk).update(created_at=created_at)
        row.refresh_from_db()
    return row


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]
