"""The inbound group commit (inbound.batch): new leads of many calls in one transaction."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import DataError, connection, connections
from django.test import Client, RequestFactory
from psycopg.pq import TransactionStatus

from deliveries.models import Delivery
from deliveries.wakeup import CHANNEL, listener
from inbound import batch
from inbound.calllog import CallRecord
from leads.models import Lead
from leads.services import normalise
from logs.models import InboundCall
from tenants.bulk import insert_json_sql
from tests.factories import EndpointFactory, LeadFactory

WAIT_SECONDS = 20


def body_for(index: int, email: str | None = None) -> bytes:
    contact = {"email": email or f"lead{index}@example.com", "phone": f"41555502{index:02d}"}
    return json.dumps({"contact": contact, "first": "Ada", "age": index}).encode()


def pending_for(handler, body: bytes) -> batch.Pending | None:
    """A call prepared as the receiver prepares it, without sending it anywhere."""
    request = RequestFactory().post(handler.path, body, content_type="application/json")
    record = CallRecord(handler, request, "127.0.0.1")
    record.body = body
    data = json.loads(body)
    values = {
        "email": data["contact"]["email"],
        "phone": data["contact"]["phone"],
        "first_name": data["first"],
        "age": data["age"],
    }
    return batch.prepare(handler, record, normalise(handler.tenant_id, values, partial=True))


@pytest.fixture
def handler(world, make_handler):
    EndpointFactory(tenant=world.a, name="Buyer")
    return make_handler(protection_period_seconds=300, actions=[{"type": "distribute"}])


@pytest.mark.django_db
class TestOneBatch:
    def test_calls_of_one_batch_are_stored_with_deliveries_and_call_rows(self, handler):
        pendings = [pending_for(handler, body_for(i)) for i in range(3)]
        batch._write(pendings)
        answers = [json.loads(p.answer.body) for p in pendings]
        assert [p.answer.status_code for p in pendings] == [201, 201, 201]
        lead_ids = [a["lead_id"] for a in answers]
        assert sorted(Lead.objects.values_list("id", flat=True)) == sorted(lead_ids)
        assert sorted(Delivery.objects.values_list("lead_id", flat=True)) == sorted(lead_ids)
        calls = InboundCall.objects.filter(status="success")
        assert sorted(calls.values_list("lead_id", flat=True)) == sorted(lead_ids)
        lead = Lead.objects.get(pk=lead_ids[0])
        assert lead.status == "routed"
        assert [entry["decision"] for entry in lead.routing] == ["matched"]
        assert lead.email == "lead0@example.com"

    def test_statements_do_not_grow_with_the_batch(self, handler, django_assert_num_queries):
        one = [pending_for(handler, body_for(0))]
        many = [pending_for(handler, body_for(i)) for i in range(1, 9)]
        # One script with the locks, the lead ids and the look-up, one with the inserts of
        # every table (leads, deliveries, calls); the test's savepoint and its release.
        with django_assert_num_queries(4):
            batch._write(one)
        with django_assert_num_queries(4):
            batch._write(many)
        assert Lead.objects.count() == 9

    def test_same_call_twice_in_one_batch_leaves_the_second_to_the_one_call_path(self, handler):
        first, second = pending_for(handler, body_for(1)), pending_for(handler, body_for(1))
        batch._write([first, second])
        assert first.answer.status_code == 201
        assert second.answer is batch.SLOW
        assert Lead.objects.count() == 1
        assert InboundCall.objects.count() == 1

    def test_call_matching_an_existing_lead_is_left_to_the_one_call_path(self, world, handler):
        LeadFactory(tenant=world.a, fields={"email": "known@example.com"})
        pending = pending_for(handler, body_for(1, email="known@example.com"))
        batch._write([pending])
        assert pending.answer is batch.SLOW
        assert Lead.objects.count() == 1
        assert not InboundCall.objects.exists()

    def test_repeat_of_a_committed_call_gets_the_original_answer(self, handler):
        original = pending_for(handler, body_for(1))
        batch._write([original])
        repeat = pending_for(handler, body_for(1))
        batch._write([repeat])
        assert repeat.answer == original.answer
        assert Lead.objects.count() == 1
        statuses = sorted(InboundCall.objects.values_list("status", flat=True))
        assert statuses == ["duplicate", "success"]

    def test_without_distribute_action_the_lead_stays_new_and_unrouted(self, make_handler):
        pending = pending_for(make_handler(actions=[]), body_for(1))
        batch._write([pending])
        lead = Lead.objects.get()
        assert (lead.status, lead.routing) == ("new", [])
        assert not Delivery.objects.exists()

    def test_capped_route_and_deliver_action_take_the_one_call_path(self, world, make_handler):
        EndpointFactory(tenant=world.a, name="Capped", caps={"daily": 5})
        capped = make_handler(actions=[{"type": "distribute"}])
        assert pending_for(capped, body_for(1)) is None
        endpoint = EndpointFactory(tenant=world.b, name="Other")
        direct = make_handler(actions=[{"type": "deliver", "endpoint": endpoint.pk}])
        assert pending_for(direct, body_for(2)) is None

    def test_failed_batch_writes_nothing_and_returns_every_call(self, handler, monkeypatch):
        real_insert = batch._insert

        def insert_then_fail(pendings, rows):
            real_insert(pendings, rows)
            raise DataError("refused")

        monkeypatch.setattr(batch, "_insert", insert_then_fail)
        pendings = [pending_for(handler, body_for(i)) for i in range(2)]
        batch._write(pendings)
        assert [p.answer for p in pendings] == [batch.SLOW, batch.SLOW]
        assert not Lead.objects.exists()
        assert not InboundCall.objects.exists()

    def test_failed_batch_is_still_answered_by_the_one_call_path(self, handler, hooks, monkeypatch):
        def fail(pendings, rows):
            raise DataError("refused")

        monkeypatch.setattr(batch, "_insert", fail)
        response = hooks.post(handler, body_for(1))
        assert response.status_code == 201, response.content
        lead = Lead.objects.get()
        assert json.loads(response.content)["lead_id"] == lead.pk
        assert Delivery.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db(transaction=True)
class TestWriterThread:
    """The web process's writer thread, with real commits, as under gunicorn."""

    def post_all(self, handler, bodies: list[bytes]) -> list:
        results: list = [None] * len(bodies)
        start = threading.Barrier(len(bodies))

        def post(index: int) -> None:
            try:
                start.wait(WAIT_SECONDS)
                response = Client().generic(
                    "POST", handler.path, bodies[index], content_type="application/json"
                )
                results[index] = (response.status_code, json.loads(response.content))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)
        return results

    def test_concurrent_calls_are_all_stored(self, handler, settings):
        settings.HUB_INBOUND_BATCH_WRITER = True
        results = self.post_all(handler, [body_for(i) for i in range(8)])
        assert [status for status, _ in results] == [201] * 8
        lead_ids = {answer["lead_id"] for _, answer in results}
        assert set(Lead.objects.values_list("id", flat=True)) == lead_ids
        assert Delivery.objects.count() == 8

    def test_identical_concurrent_calls_store_one_lead(self, handler, settings):
        settings.HUB_INBOUND_BATCH_WRITER = True
        results = self.post_all(handler, [body_for(1)] * 6)
        assert {status for status, _ in results} == {201}
        assert len({answer["lead_id"] for _, answer in results}) == 1
        assert Lead.objects.count() == 1
        statuses = sorted(InboundCall.objects.values_list("status", flat=True))
        assert statuses == ["duplicate"] * 5 + ["success"]

    def test_an_unexpected_error_in_the_writer_never_loses_a_call(
        self, handler, settings, monkeypatch
    ):
        settings.HUB_INBOUND_BATCH_WRITER = True
        failures = []

        def broken(cursor, pendings, rows, **kwargs):
            failures.append(len(pendings))
            raise RuntimeError("a bug")

        monkeypatch.setattr(batch, "_insert", broken)
        results = self.post_all(handler, [body_for(i) for i in range(4)])
        assert failures, "the writer never ran"
        assert [status for status, _ in results] == [201] * 4
        assert Lead.objects.count() == 4

    def test_a_batch_that_breaks_after_its_begin_leaves_the_connection_idle(
        self, handler, monkeypatch
    ):
        def broken(cursor, pendings, rows, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(batch, "_insert", broken)
        pending = pending_for(handler, body_for(1))
        batch._write([pending])
        assert pending.answer is batch.SLOW
        status = connection.connection.info.transaction_status
        assert status == TransactionStatus.IDLE, status

    def test_an_insert_refused_at_commit_rolls_the_batch_back_and_loses_nothing(
        self, handler, settings, monkeypatch
    ):
        # The refusal arrives with the script that also holds the COMMIT.
        settings.HUB_INBOUND_BATCH_WRITER = True
        refused = []

        def out_of_range(model, objs, **kwargs):
            sql, params = insert_json_sql(model, objs, **kwargs)
            if model is InboundCall:
                refused.append(len(objs))
                rows = json.loads(params[0])
                rows[-1]["response_status"] = 10**6  # past a smallint: refused by PostgreSQL
                params = [json.dumps(rows)]
            return sql, params

        monkeypatch.setattr(batch, "insert_json_sql", out_of_range)
        results = self.post_all(handler, [body_for(i) for i in range(4)])
        assert refused, "the writer never ran"
        assert [status for status, _ in results] == [201] * 4
        lead_ids = {answer["lead_id"] for _, answer in results}
        assert set(Lead.objects.values_list("id", flat=True)) == lead_ids
        assert Delivery.objects.count() == 4
        assert InboundCall.objects.count() == 4

    def test_a_stored_batch_wakes_the_dispatcher(self, handler, settings):
        settings.HUB_INBOUND_BATCH_WRITER = True
        with listener() as listening:
            results = self.post_all(handler, [body_for(1)])
            assert results[0][0] == 201
            notices = list(listening.notifies(timeout=WAIT_SECONDS, stop_after=1))
        assert [notice.channel for notice in notices] == [CHANNEL]
