"""The dispatcher loop: woken by NOTIFY when deliveries are committed; the embedded launcher."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from deliveries import dispatcher
from deliveries.dispatcher import DispatcherThread, start_embedded_engine
from deliveries.models import Delivery, Status
from deliveries.wakeup import notify_new_deliveries
from tests.factories import TenantFactory

from .factories import delivery_for, endpoint_for, eventually

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_engine")]


def test_a_committed_notify_wakes_the_loop_long_before_its_next_poll(receiver):
    endpoint = endpoint_for(TenantFactory(), receiver.url("/leads"))
    thread = DispatcherThread(poll_seconds=60)  # only a NOTIFY can wake it in time
    thread.start()
    try:
        eventually(lambda: thread.dispatcher._listener is not None, timeout=10)
        with transaction.atomic():
            delivery = delivery_for(endpoint)
            notify_new_deliveries()
        eventually(
            lambda: Delivery.objects.filter(pk=delivery.pk, status=Status.ACCEPTED).exists(),
            timeout=20,
        )
    finally:
        thread.stop()
    assert not thread.is_alive()
    assert len(receiver.received("/leads")) == 1


def test_the_embedded_engine_starts_only_when_enabled_and_only_once():
    assert start_embedded_engine() is None
    with override_settings(HUB_EMBEDDED_ENGINE=True):
        first = start_embedded_engine()
        try:
            assert first is not None and first.is_alive()
            assert start_embedded_engine() is first
        finally:
            first.stop()
            dispatcher._embedded = None


class _Listener:
    """A LISTEN connection stand-in: one notification, then another during the gather."""

    def __init__(self):
        self.pending = 1
        self.drained = 0

    def notifies(self, timeout, stop_after):
        if timeout == 0:  # the drain after the gather
            self.drained += self.pending
            self.pending = 0
            return iter(())
        if self.pending:
            self.pending -= 1
            return iter([object()])
        return iter(())


@override_settings(HUB_DISPATCH_GATHER_MS=25)
def test_a_wakeup_gathers_what_arrives_in_the_next_milliseconds(monkeypatch):
    listener = _Listener()
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        listener.pending += 1  # another lead committed during the gather

    monkeypatch.setattr(dispatcher.time, "sleep", sleep)
    dispatcher.Dispatcher(poll_seconds=5)._wait_for_notify(listener)
    assert slept == [0.025]
    assert listener.drained == 1  # taken with the same claim, not waking the loop again


@override_settings(HUB_DISPATCH_GATHER_MS=0)
def test_no_gather_when_turned_off(monkeypatch):
    slept = []
    monkeypatch.setattr(dispatcher.time, "sleep", slept.append)
    dispatcher.Dispatcher(poll_seconds=5)._wait_for_notify(_Listener())
    assert slept == []
