"""A worker's database connection broken by a PostgreSQL restart is replaced before the next
task, although CELERY_DB_REUSE_MAX keeps connections across tasks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection

from config.celery import _replace_broken_connections

pytestmark = pytest.mark.django_db(transaction=True)


def _break_connection() -> None:
    connection.ensure_connection()
    connection.connection.close()  # what a server restart leaves behind
    connection.errors_occurred = True  # set by Django when the first query failed on it


def test_a_broken_connection_is_dropped_before_the_next_task():
    _break_connection()
    _replace_broken_connections(sender=SimpleNamespace(request=SimpleNamespace(is_eager=False)))
    assert connection.connection is None
    with connection.cursor() as cursor:  # the next query reconnects
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_an_eager_task_leaves_the_callers_connection_alone():
    _break_connection()
    _replace_broken_connections(sender=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    assert connection.connection is not None
    connection.close()
