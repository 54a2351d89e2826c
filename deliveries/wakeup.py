"""Wake the dispatcher when new deliveries are committed."""

from __future__ import annotations

import threading

import psycopg
from django.db import connection, transaction

CHANNEL = "hub_deliveries"
_local_event = threading.Event()


def notify_new_deliveries() -> None:
    """Call inside the transaction that writes deliveries.

    PostgreSQL delivers a NOTIFY only when that transaction commits, so listeners never wake
    for rows they cannot see; the in-process event (embedded mode) is set on commit too.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    transaction.on_commit(_local_event.set)


def local_event() -> threading.Event:
    return _local_event


def listener() -> psycopg.Connection:
    """A dedicated autocommit connection LISTENing on ``CHANNEL``, to the same database as
    Django's. Raises ``psycopg.Error`` when it cannot connect or listen."""
    params = connection.get_connection_params()
    params = {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}
    conn = psycopg.connect(**params, autocommit=True)
    try:
        conn.execute(f"LISTEN {CHANNEL}")
    except psycopg.Error:
        conn.close()
        raise
    return conn
