"""Identical calls arriving at the same moment: one lead, every other call a duplicate.

These run with real transactions and one database connection per thread, as under gunicorn.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connections, transaction
from django.test import Client

from leads.models import Campaign, Lead
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


def _advisory_locks(granted: bool) -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = %s",
            [granted],
        )
        return cursor.fetchone()[0]


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_second_identical_call_waits_for_the_first_to_commit(make_handler, campaign):
    """Hold the first call inside its storing transaction until the second is seen waiting on
    the advisory lock; the second must then answer the first one's response.

    The hold: this test's own transaction row-locks the campaign, so the first call's lead
    insert (which must key-share-lock it) waits, after the call took its advisory lock.
    """
    handler = make_handler(protection_period_seconds=300, actions=[])
    results: list = [None, None]
    first = threading.Thread(target=post, args=(handler.path, results, 0))
    second = threading.Thread(target=post, args=(handler.path, results, 1))
    try:
        with transaction.atomic():
            Campaign.objects.select_for_update().get(pk=campaign.pk)
            first.start()
            _wait_for(lambda: _advisory_locks(granted=True) == 1, "the first call never locked")
            second.start()
            _wait_for(lambda: _advisory_locks(granted=False) == 1, "the second never waited")
            # Neither answered: the first waits on the campaign row, the second on the first.
            assert results == [None, None]
    finally:
        first.join(WAIT_SECONDS)
        second.join(WAIT_SECONDS)
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
