"""Set-based row updates: one statement for many rows with different values."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


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
