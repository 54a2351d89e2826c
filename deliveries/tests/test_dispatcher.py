"""Claims: due deliveries leased in batches, never twice, and taken back after a lease ends."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from deliveries.dispatcher import MAX_QUEUED_BATCHES, claim_due, dispatch_due
from deliveries.models import Delivery, Status
from deliveries.tasks import send_batch
from tests.factories import EndpointFactory, TenantFactory

from .factories import delivery_for


@pytest.fixture
def endpoint(db):
    return EndpointFactory(tenant=TenantFactory())


def test_claim_takes_due_open_deliveries_and_leases_them(endpoint):
    due = [delivery_for(endpoint, due_in=-5) for _ in range(3)]
    ids, lease_until = claim_due(10)
    assert ids == sorted(d.pk for d in due)
    assert lease_until > timezone.now() + timedelta(seconds=60)
    assert set(Delivery.objects.values_list("lease_until", flat=True)) == {lease_until}


def test_claim_skips_future_final_and_leased_deliveries(endpoint):
    delivery_for(endpoint, due_in=60)
    delivery_for(endpoint, due_in=-1, status=Status.ACCEPTED)
    delivery_for(endpoint, due_in=-1, status=Status.FAILED)
    delivery_for(endpoint, due_in=-1, lease_until=timezone.now() + timedelta(seconds=30))
    retrying = delivery_for(endpoint, due_in=-1, status=Status.RETRYING)
    ids, _ = claim_due(10)
    assert ids == [retrying.pk]


def test_a_claimed_delivery_is_not_claimed_again_while_leased(endpoint):
    delivery_for(endpoint)
    first, _ = claim_due(10)
    second, lease = claim_due(10)
    assert len(first) == 1
    assert second == [] and lease is None


def test_an_expired_lease_makes_the_delivery_due_again(endpoint):
    stale = delivery_for(endpoint, lease_until=timezone.now() - timedelta(seconds=1))
    ids, lease_until = claim_due(10)
    assert ids == [stale.pk]
    stale.refresh_from_db()
    assert stale.lease_until == lease_until


def test_claim_takes_the_longest_waiting_first_and_respects_the_limit(endpoint):
    newer = delivery_for(endpoint, due_in=-1)
    oldest = delivery_for(endpoint, due_in=-30)
    older = delivery_for(endpoint, due_in=-10)
    ids, _ = claim_due(2)
    assert ids == sorted([oldest.pk, older.pk])
    assert newer.pk not in ids


@pytest.mark.django_db(transaction=True)
def test_claim_skips_rows_locked_by_another_transaction():
    endpoint = EndpointFactory(tenant=TenantFactory())
    locked = [delivery_for(endpoint, due_in=-10) for _ in range(2)]
    free = [delivery_for(endpoint, due_in=-1) for _ in range(2)]
    holding, release = threading.Event(), threading.Event()

    def hold_locks():
        with transaction.atomic():
            list(Delivery.objects.select_for_update().filter(pk__in=[d.pk for d in locked]))
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=hold_locks)
    thread.start()
    try:
        assert holding.wait(10)
        ids, _ = claim_due(10)
    finally:
        release.set()
        thread.join()
    # It did not wait for the lock, and did not take the locked rows.
    assert ids == sorted(d.pk for d in free)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_share_a_delivery():
    endpoint = EndpointFactory(tenant=TenantFactory())
    for _ in range(60):
        delivery_for(endpoint, due_in=-1)
    claimed: list[list[int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def claimer():
        start.wait()
        mine = []
        while True:
            ids, _ = claim_due(7)
            if not ids:
                break
            mine += ids
        with lock:
            claimed.append(mine)
        connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [pk for mine in claimed for pk in mine]
    assert len(everything) == 60
    assert len(set(everything)) == 60


@pytest.fixture
def broker_queue(settings):
    """Tasks go to a queue of this test's own in the real Redis broker."""
    app = send_batch.app
    queue = f"test-dispatch-{uuid.uuid4().hex}"
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        yield client, queue
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        client.delete(queue)


def test_dispatch_sends_one_task_per_batch_carrying_ids_and_the_claim(endpoint, broker_queue):
    client, queue = broker_queue
    deliveries = [delivery_for(endpoint) for _ in range(5)]
    assert dispatch_due(batch_size=2) == 5
    messages = [json.loads(m) for m in client.lrange(queue, 0, -1)]
    assert len(messages) == 3
    bodies = [json.loads(base64.b64decode(m["body"])) for m in messages]
    ids = sorted(pk for body in bodies for pk in body[0][0])
    assert ids == sorted(d.pk for d in deliveries)
    claims = {body[0][1] for body in bodies}
    leases = {d.lease_until.isoformat() for d in Delivery.objects.all()}
    assert claims == leases


def test_dispatch_claims_nothing_while_the_broker_queue_is_full(endpoint, broker_queue):
    client, queue = broker_queue
    delivery = delivery_for(endpoint)
    client.rpush(queue, *[b"waiting"] * MAX_QUEUED_BATCHES)
    assert dispatch_due() == 0
    delivery.refresh_from_db()
    assert delivery.lease_until is None  # still free for when the workers catch up
    client.delete(queue)
    assert dispatch_due() == 1
