"""Nothing is lost when the broker loses its messages or a worker dies mid-call.

PostgreSQL holds every delivery's state; a lost message or a dead worker only leaves a lease
behind, and once it expires the dispatcher (or the beat sweep) claims the delivery again.
"""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from config.celery import app
from deliveries.dispatcher import dispatch_due
from deliveries.models import Delivery, Status
from logs.models import CallLog
from tests.factories import TenantFactory

from .factories import delivery_for, endpoint_for, eventually
from .receiver import HOLD
from .worker import QUEUE, beat, worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def log_dir(tmp_path):
    return tmp_path


@pytest.fixture
def processes():
    started = []
    yield started
    for proc in started:
        proc.stop()


def test_a_worker_killed_mid_call_leaves_the_delivery_to_the_next_worker(
    receiver, log_dir, processes
):
    receiver.script("/held", [HOLD, (200, b'{"ok": true}')])
    endpoint = endpoint_for(TenantFactory(), receiver.url("/held"), timeout_seconds=2)
    env = {"HUB_DELIVERY_LEASE_SECONDS": "4"}
    first = worker(log_dir, env=env)
    processes.append(first)
    delivery = delivery_for(endpoint)

    receiver.wait_for(1, "/held")  # the first worker is in the middle of the call
    first.kill()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)

    processes.append(worker(log_dir, env=env))
    eventually(
        lambda: Delivery.objects.filter(pk=delivery.pk, status=Status.ACCEPTED).exists(),
        timeout=30,
    )
    calls = receiver.received("/held")
    assert len(calls) == 2
    assert [c.headers["Idempotency-Key"] for c in calls] == [str(delivery.key)] * 2
    # The killed attempt left no record; the one that completed is logged once.
    assert list(CallLog.objects.filter(delivery=delivery).values_list("outcome", flat=True)) == [
        "accepted"
    ]


def test_lost_broker_messages_are_recovered_by_the_beat_sweep(receiver, log_dir, processes):
    endpoint = endpoint_for(TenantFactory(), receiver.url("/batch"))
    deliveries = [delivery_for(endpoint) for _ in range(20)]
    broker = redis.Redis.from_url(settings.REDIS_URL)

    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, QUEUE
    try:
        with override_settings(HUB_DELIVERY_LEASE_SECONDS=2):
            assert dispatch_due() == 20  # claimed, and the task is waiting in Redis…
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
    assert broker.llen(QUEUE) == 1
    # …when the broker loses it (as FLUSHALL or a restart without persistence would; only this
    # session's queue is wiped, the Redis server is shared with parallel test runs).
    broker.delete(QUEUE)

    # A worker with no dispatcher thread: only the beat sweep can find the deliveries again.
    processes.append(beat(log_dir))  # starts while the worker below boots
    processes.append(worker(log_dir, "--without-dispatcher"))
    eventually(lambda: Delivery.objects.filter(status=Status.ACCEPTED).count() == 20, timeout=40)
    keys = [c.headers["Idempotency-Key"] for c in receiver.received("/batch")]
    assert sorted(keys) == sorted(str(d.key) for d in deliveries)  # each sent exactly once
