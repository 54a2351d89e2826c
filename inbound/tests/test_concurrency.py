"""Identical calls arriving at the same moment: one lead, every other call a duplicate.

These run with real transactions and one database connection per thread, as under gunicorn.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from leads.models import Lead
from leads.signals import lead_stored
from logs.models import InboundCall

pytestmark = pytest.mark.django_db(transaction=True)

BODY = json.dumps({"contact": {"email": "ada@example.com"}, "first": "Ada"}).encode()
WAIT_SECONDS = 20


def post(path: str, results: list, index: int, start: threading.Barrier | None = None) -> None:
    try:
        if start is not None:
            start.wait(WAIT_SECONDS)
        response = Client().generic("POST", path, BODY, content_type="application/json")
        results[index] = (response.status_code, response.content)
    finally:
        connections.close_all()


def test_simultaneous_identical_calls_store_one_lead(make_handler):
    handler = make_handler(protection_period_seconds=300, actions=[])
    count = 6
    results: list = [None] * count
    start = threading.Barrier(count)
    threads = [
        threading.Thread(target=post, args=(handler.path, results, i, start)) for i in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert all(result is not None for result in results), results
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert {status for status, _ in results} == {201}
    assert {json.loads(content)["lead_id"] for _, content in results} == {lead.pk}
    statuses = sorted(InboundCall.objects.values_list("status", flat=True))
    assert statuses == ["duplicate"] * (count - 1) + ["success"]


def _advisory_lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def test_second_identical_call_waits_for_the_first_to_commit(make_handler):
    """Hold the first call inside its storing transaction until the second is seen waiting on
    the advisory lock; the second must then answer the first one's response."""
    handler = make_handler(protection_period_seconds=300, actions=[])
    inside = threading.Event()
    release = threading.Event()
    held = []

    def hold_first(sender, lead, **kwargs):
        if not held:
            held.append(lead.pk)
            inside.set()
            release.wait(WAIT_SECONDS)

    lead_stored.connect(hold_first, dispatch_uid="hold-first-inbound-test")
    results: list = [None, None]
    try:
        first = threading.Thread(target=post, args=(handler.path, results, 0))
        first.start()
        assert inside.wait(WAIT_SECONDS)
        second = threading.Thread(target=post, args=(handler.path, results, 1))
        second.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while _advisory_lock_waiters() == 0:
            assert time.monotonic() < deadline, "the second call never waited on the lock"
            time.sleep(0.01)
        assert results == [None, None]  # neither answered: the first holds, the second waits
        release.set()
        first.join(WAIT_SECONDS)
        second.join(WAIT_SECONDS)
    finally:
        release.set()
        lead_stored.disconnect(dispatch_uid="hold-first-inbound-test")
    assert results[0] is not None and results[1] is not None
    assert results[0] == results[1]
    assert results[0][0] == 201
    assert Lead.objects.count() == 1
    assert sorted(InboundCall.objects.values_list("status", flat=True)) == [
        "duplicate",
        "success",
    ]


def test_simultaneous_different_calls_are_all_stored(make_handler):
    handler = make_handler(protection_period_seconds=300, actions=[], parameters=[], mappings=[])
    count = 4
    results: list = [None] * count
    start = threading.Barrier(count)

    def post_own(index):
        try:
            start.wait(WAIT_SECONDS)
            body = json.dumps({"first_name": f"Lead {index}"}).encode()
            response = Client().generic("POST", handler.path, body, content_type="application/json")
            results[index] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post_own, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert results == [201] * count
    assert Lead.objects.count() == count
