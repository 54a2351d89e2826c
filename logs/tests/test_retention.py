import datetime as dt

import pytest
import time_machine

from logs import retention
from logs.models import CallLog, InboundCall
from logs.tasks import purge_expired
from logs.tests.helpers import call, inbound

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def aged(world):
    """A keeps 30 days, B 90. Each has rows 10, 45 and 120 days old."""
    world.a.log_retention_days = 30
    world.a.save()
    world.b.log_retention_days = 90
    world.b.save()
    rows = {}
    for tenant in (world.a, world.b):
        for age in (10, 45, 120):
            rows[(tenant.slug, "call", age)] = call(tenant, created_at=days_ago(age)).pk
            rows[(tenant.slug, "inbound", age)] = inbound(tenant, created_at=days_ago(age)).pk
    return rows


def surviving(model, tenant) -> set[int]:
    return set(model.objects.for_tenant(tenant).values_list("pk", flat=True))


def test_each_tenant_keeps_rows_for_its_own_retention(world, aged):
    purged = retention.purge_expired(now=NOW)
    assert surviving(CallLog, world.a) == {aged[("acme", "call", 10)]}
    assert surviving(InboundCall, world.a) == {aged[("acme", "inbound", 10)]}
    assert surviving(CallLog, world.b) == {aged[("bravo", "call", 10)], aged[("bravo", "call", 45)]}
    assert surviving(InboundCall, world.b) == {
        aged[("bravo", "inbound", 10)],
        aged[("bravo", "inbound", 45)],
    }
    assert (purged.call_logs, purged.inbound_calls) == (3, 3)


def test_purge_works_in_batches_until_nothing_is_left(world):
    world.a.log_retention_days = 1
    world.a.save()
    for n in range(7):
        call(world.a, created_at=days_ago(2 + n))
    keep = call(world.a, created_at=days_ago(0.5))
    deleted = retention.delete_older_than(CallLog, world.a.pk, days_ago(1), batch_size=3)
    assert deleted == 7
    assert surviving(CallLog, world.a) == {keep.pk}


def test_zero_days_keeps_everything(world):
    world.a.log_retention_days = 0
    world.a.save()
    old = call(world.a, created_at=days_ago(3650))
    assert retention.purge_tenant(world.a, now=NOW) == retention.Purged()
    assert surviving(CallLog, world.a) == {old.pk}


def test_the_periodic_task_purges_by_its_fixed_name(world, aged):
    from config.celery import app

    assert "logs.purge_expired" in app.tasks
    with time_machine.travel(NOW, tick=False):
        result = purge_expired.delay()
    assert result.get() == {"call_logs": 3, "inbound_calls": 3}
    assert surviving(CallLog, world.a) == {aged[("acme", "call", 10)]}
