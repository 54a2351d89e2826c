"""The receiver's hot-path reads, as plain SQL.

Building these statements through the ORM (filters, annotations, ordering) cost more CPU than
running them; the receiver makes them on every call, so they are written once here. The SQL is
portable (PostgreSQL, and SQLite for the embedded default) and uses the models' table and
column names from their ``_meta``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.db import connection
from django.db.models import Model

from leads.models import Campaign, Lead
from logs.models import InboundCall, InboundStatus
from tenants.bulk import insert_rows_sql

from .models import InboundHandler

_CALLS = InboundCall._meta.db_table
_LEADS = Lead._meta.db_table
_EMAIL_LENGTH = Lead._meta.get_field("email").max_length
_PHONE_LENGTH = Lead._meta.get_field("phone").max_length


def _converters(model: type[Model]) -> list[list]:
    """Per column of ``model``, the functions turning a database value into a Python one
    (what the ORM applies: backend converters, then the field's ``from_db_value``)."""
    return _converters_for(model, connection.vendor)


@lru_cache(maxsize=16)
def _converters_for(model: type[Model], vendor: str) -> list[list]:
    # Computed once per model and backend: it was a fifth of the handler look-up's CPU.
    table = model._meta.db_table
    result = []
    for field in model._meta.concrete_fields:
        column = field.get_col(table)
        result.append(
            connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        )
    return result


def _hydrate(model: type[Model], values, converters: list[list]) -> Model:
    converted = []
    for value, functions in zip(values, converters, strict=True):
        for function in functions:
            value = function(value, None, connection)
        converted.append(value)
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, names, converted)


@lru_cache(maxsize=4)
def _handler_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = [f"h.{quote(f.column)}" for f in InboundHandler._meta.concrete_fields] + [
        f"c.{quote(f.column)}" for f in Campaign._meta.concrete_fields
    ]
    return (
        f"SELECT {', '.join(columns)} FROM {quote(InboundHandler._meta.db_table)} h "
        f"LEFT JOIN {quote(Campaign._meta.db_table)} c ON c.id = h.campaign_id "
        "WHERE h.token = %s"
    )


# Handlers by token, per process, for a second: the look-up was a tenth of a call's CPU. A
# save or delete in this process drops them at once (inbound.signals); another process's
# change is seen within HANDLER_TTL.
HANDLER_TTL = 1.0
_handlers: dict[str, tuple[float, InboundHandler | None]] = {}


def forget_handlers() -> None:
    _handlers.clear()


def handler_by_token(token: str) -> InboundHandler | None:
    """The handler with this token and its campaign (None when unknown), read at most once a
    second per process. Callers must not modify it: threads of the process share it."""
    now = time.monotonic()
    hit = _handlers.get(token)
    if hit is not None and hit[0] > now:
        return hit[1]
    handler = _load_handler(token)
    if len(_handlers) > 10_000:
        _handlers.clear()  # a flood of unknown tokens must not grow the process
    _handlers[token] = (now + HANDLER_TTL, handler)
    return handler


def _load_handler(token: str) -> InboundHandler | None:
    with connection.cursor() as cursor:
        cursor.execute(_handler_sql(connection.vendor), [token])
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(InboundHandler._meta.concrete_fields)
    handler = _hydrate(InboundHandler, row[:count], _converters(InboundHandler))
    # Fill the relation's cache, so handler.campaign needs no query (None stays None).
    handler.campaign = (
        _hydrate(Campaign, row[count:], _converters(Campaign))
        if handler.campaign_id is not None
        else None
    )
    return handler


def lock_dedupe_key(handler_id: int, key: str) -> None:
    """Take a transaction-scoped lock on (handler, dedupe key); PostgreSQL only.

    Two identical calls serialise here: the second waits until the first commits or rolls
    back, and its following statements see the first one's rows (READ COMMITTED).
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises write transactions (BEGIN IMMEDIATE) anyway.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(handler_id, key)])


def lock_key(handler_id: int, key: str) -> int:
    """The advisory-lock key of (handler, dedupe key), for the one-call path and batches."""
    digest = hashlib.sha256(f"inbound:{handler_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Prior:
    """What the database already holds for a call: the id of an identical successful call
    inside the protection period, and the id of the lead the call would update."""

    original_call: int | None
    lead: int | None


def prior(
    handler_id: int, key: str | None, since: datetime, tenant_id: int, email: str, phone: str
) -> Prior:
    """Both look-ups in one round trip (the common "new lead" path needs nothing else).

    ``key`` None skips the duplicate check (no protection period). The lead is the tenant's
    newest one with this email, failing that with this phone; empty values never match.
    """
    columns: list[str] = []
    params: list = []
    if key is not None:
        # The literal status matches the partial index inboundcall_dedupe (status = 'success').
        columns.append(
            f"(SELECT id FROM {_CALLS} WHERE handler_id = %s AND dedupe_key = %s "
            f"AND status = '{InboundStatus.SUCCESS}' AND created_at >= %s "
            "ORDER BY created_at DESC LIMIT 1)"
        )
        params += [handler_id, key, connection.ops.adapt_datetimefield_value(since)]
    else:
        columns.append("NULL")
    email, phone = email[:_EMAIL_LENGTH], phone[:_PHONE_LENGTH]
    if email or phone:
        if email and phone:
            where, order = "(email = %s OR phone = %s)", "CASE WHEN email = %s THEN 0 ELSE 1 END, "
            lead_params = [tenant_id, email, phone, email]
        else:
            where, order = ("email = %s" if email else "phone = %s"), ""
            lead_params = [tenant_id, email or phone]
        columns.append(
            f"(SELECT id FROM {_LEADS} WHERE tenant_id = %s AND {where} "
            f"ORDER BY {order}created_at DESC, id DESC LIMIT 1)"
        )
        params += lead_params
    else:
        columns.append("NULL")
    if not params:
        return Prior(None, None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}", params)
        original_call, lead = cursor.fetchone()
    return Prior(original_call, lead)


def original_answer(call_id: int) -> tuple:
    """``(status, body, content type, lead id)`` answered to an earlier call."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT response_status, response_body, response_content_type, lead_id "
            f"FROM {_CALLS} WHERE id = %s",
            [call_id],
        )
        return cursor.fetchone()


def lead_for_update(lead_id: int) -> Lead | None:
    """The lead, row-locked until the transaction ends (None if it was deleted meanwhile)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = list(Lead.objects.raw(f"SELECT * FROM {_LEADS} WHERE id = %s{lock}", [lead_id]))
    return found[0] if found else None


def insert_call(call: InboundCall) -> None:
    """INSERT one InboundCall row (no RETURNING: the receiver never needs its id), prepared as
    the ORM would prepare it (``tenants.bulk.insert_rows_sql``)."""
    sql, params = insert_rows_sql(InboundCall, [call])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
