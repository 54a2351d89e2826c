"""Set-based writes: one statement for many rows with different values."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import psycopg
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
    """``(INSERT … SELECT * FROM unnest(…), params)`` for ``objs``, for a caller to run or
    to embed in a larger statement (a data-modifying CTE); PostgreSQL only.

    One array parameter per column, so the SQL text is the same whatever the number of rows:
    psycopg parses it once and PostgreSQL can keep it prepared (a ``VALUES`` list per row was
    re-parsed for every batch). Values are prepared as the ORM's own insert prepares them
    (``pre_save`` fills ``auto_now_add``, ``get_db_prep_save`` adapts JSON). The primary key
    is written only with ``with_pk`` (ids the caller took from the sequence).
    """
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    # The wrapper itself, not the thread-local proxy: each attribute read through
    # ``django.db.connection`` costs a Local look-up, and this runs per value.
    wrapper = connections[DEFAULT_DB_ALIAS]
    columns: list[list] = [[] for _ in fields]
    for obj in objs:
        for column, f in zip(columns, fields, strict=True):
            column.append(f.get_db_prep_save(f.pre_save(obj, True), wrapper))
    return _unnest_sql(model, tuple(fields), wrapper), columns


@lru_cache(maxsize=64)
def _unnest_sql(model: type[models.Model], fields: tuple, wrapper) -> str:
    quote = wrapper.ops.quote_name
    arrays = ", ".join(f"%s::{_array_type(f, wrapper)}" for f in fields)
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT * FROM unnest({arrays})"
    )


def _array_type(field: models.Field, wrapper) -> str:
    # A foreign key's column has its target's type; arrays of varchar(n) are plain text[].
    db_type = (
        field.target_field.rel_db_type(wrapper) if field.is_relation else field.db_type(wrapper)
    )
    return "text[]" if db_type.startswith("varchar") else f"{db_type}[]"


def server_binding_cursor():
    """A Django cursor (queries counted and logged, errors wrapped as Django's) whose
    parameters PostgreSQL binds, instead of psycopg quoting each into the SQL text.

    For statements with hundreds of values (set-based inserts), where client-side quoting was
    the largest share of their CPU. PostgreSQL only; use as ``with server_binding_cursor() as c``.
    """
    connection.ensure_connection()
    # _prepare_cursor is what connection.cursor() itself does with the cursor it creates.
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))
