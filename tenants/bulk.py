"""Set-based writes: one statement for many rows with different values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


def bulk_update_values(model: type[models.Model], objs: Sequence[models.Model], fields: list[str]):
    """Write ``fields`` of every object in ``objs`` to its row.

    On PostgreSQL this is one ``UPDATE … FROM (VALUES …)``: Django's ``bulk_update`` builds a
    ``CASE WHEN`` per field per row, whose planning cost grows with the batch and dominated the
    delivery recorder's follow-ups. Elsewhere it falls back to ``bulk_update``.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    casts = [f"%s::{pk.db_type(connection)}"] + [
        f"%s::{field.db_type(connection)}" for field in columns
    ]
    row_sql = "(" + ", ".join(casts) + ")"
    params: list = []
    for obj in objs:
        params.append(obj.pk)
        for field in columns:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    quote = connection.ops.quote_name
    names = ["id"] + [field.column for field in columns]
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join([row_sql] * len(objs))}) AS v({', '.join(map(quote, names))}) "
        f"WHERE t.{quote(pk.column)} = v.{quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_rows_sql(
    model: type[models.Model], objs: Sequence[models.Model], *, with_pk: bool = False
) -> tuple[str, list]:
    """``(INSERT … VALUES (…), (…), params)`` for ``objs``: portable (the one-call path runs
    on SQLite too); a PostgreSQL batch of many rows is cheaper with ``insert_json_sql``.

    Values are what the ORM's own insert writes (``pre_save`` for the fields that fill
    themselves, such as ``auto_now_add``; ``get_db_prep_save`` adapts JSON and the like). The
    primary key is written only with ``with_pk`` (ids the caller took from the sequence).
    Scalar parameters, not one array per column: psycopg dumps scalars in C, while arrays of
    text were escaped element by element in Python (measured: three times the CPU).
    """
    # The wrapper itself, not the thread-local proxy: each attribute read through
    # ``django.db.connection`` costs a Local look-up, and this runs per value.
    wrapper = connections[DEFAULT_DB_ALIAS]
    fields, fills = _insert_fields(model, with_pk)
    params: list = []
    for obj in objs:
        for field, fills_itself in zip(fields, fills, strict=True):
            value = field.pre_save(obj, True) if fills_itself else getattr(obj, field.attname)
            params.append(field.get_db_prep_save(value, wrapper))
    return _values_sql(model, with_pk, len(objs)), params


@lru_cache(maxsize=16)
def _insert_fields(model: type[models.Model], with_pk: bool) -> tuple[tuple, tuple]:
    """The columns written, and for each whether its ``pre_save`` sets the value (a field
    class overriding ``Field.pre_save``); the others are read from the object as they are."""
    fields = tuple(f for f in model._meta.concrete_fields if with_pk or not f.primary_key)
    fills = tuple(type(f).pre_save is not models.Field.pre_save for f in fields)
    return fields, fills


@lru_cache(maxsize=256)
def _values_sql(model: type[models.Model], with_pk: bool, rows: int) -> str:
    fields, _ = _insert_fields(model, with_pk)
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * rows)}"
    )


def insert_json_sql(
    model: type[models.Model], objs: Sequence[models.Model], *, with_pk: bool = False
) -> tuple[str, list]:
    """``(INSERT … SELECT … FROM json_populate_recordset(…), [document])`` for ``objs``
    (PostgreSQL only): every row travels in one JSON document, one parameter.

    The statement text depends only on the model, so psycopg converts and PostgreSQL plans
    it once; the rows cost one ``json.dumps`` in C. The multi-row INSERT of
    ``insert_rows_sql`` has parameters per value, and psycopg re-parses any statement with
    more than 50 of them in Python on every execution: most of a batch's CPU. Values are
    what the ORM's insert would write (``pre_save`` fills ``auto_now_add`` and the like on
    the objects); the primary key only ``with_pk``.
    """
    plan = _json_plan(model, with_pk)
    rows = []
    for obj in objs:
        row = {}
        for field, column, fills_itself, adapt in plan:
            value = field.pre_save(obj, True) if fills_itself else getattr(obj, field.attname)
            row[column] = value if adapt is None or value is None else adapt(value)
        rows.append(row)
    return _json_sql(model, with_pk), [json.dumps(rows, separators=(",", ":"))]


@lru_cache(maxsize=16)
def _json_sql(model: type[models.Model], with_pk: bool) -> str:
    fields, _ = _insert_fields(model, with_pk)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    return (
        f"INSERT INTO {table} ({columns}) "
        f"SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s::json)"
    )


# Field classes whose Python value JSON carries as it is (PostgreSQL reads it as the column's
# type). Auto and big integer fields are IntegerFields.
_AS_IS = (models.BooleanField, models.CharField, models.IntegerField, models.TextField)


@lru_cache(maxsize=16)
def _json_plan(model: type[models.Model], with_pk: bool) -> tuple[tuple, ...]:
    """Per inserted field: ``(field, column, fills itself, adapter)``, the adapter turning a
    non-None value into JSON (None: as it is; a JSONField's value is nested as it is)."""
    fields, fills = _insert_fields(model, with_pk)
    plan = []
    for field, fills_itself in zip(fields, fills, strict=True):
        kind = field.target_field if isinstance(field, models.ForeignKey) else field
        if isinstance(kind, models.JSONField) and kind.encoder is None:
            adapt = None
        elif isinstance(kind, models.DateTimeField):
            adapt = _isoformat
        elif isinstance(kind, (models.UUIDField, models.GenericIPAddressField)):
            adapt = str
        elif isinstance(kind, _AS_IS):
            adapt = None
        else:
            raise TypeError(f"{model.__name__}.{field.name}: no JSON form for {type(kind)}")
        plan.append((field, field.column, fills_itself, adapt))
    return tuple(plan)


def _isoformat(value) -> str:
    return value.isoformat()
