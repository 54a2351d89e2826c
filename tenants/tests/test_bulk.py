import pytest
from django.db import connection

from deliveries.models import Delivery
from leads.models import Lead
from logs.models import InboundCall
from tenants.bulk import bulk_update_values, insert_json_sql
from tests.factories import EndpointFactory, InboundHandlerFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_in_one_statement(world, django_assert_num_queries):
    first, second = LeadFactory(tenant=world.a), LeadFactory(tenant=world.a)
    untouched = LeadFactory(tenant=world.a)
    first.fields, first.status, first.routing = {"a": "x'y"}, "sold", [{"r": 1}]
    second.fields, second.status, second.routing = {"b": [1, 2]}, "rejected", []
    with django_assert_num_queries(1):
        bulk_update_values(Lead, [first, second], ["fields", "status", "routing"])
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert (first.fields, first.status, first.routing) == ({"a": "x'y"}, "sold", [{"r": 1}])
    assert (second.fields, second.status) == ({"b": [1, 2]}, "rejected")
    assert untouched.status == "new"


def test_nothing_to_update_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        bulk_update_values(Lead, [], ["status"])


def test_json_insert_writes_what_the_orm_would(world):
    """Every kind of column the hot path inserts: JSON, text, timestamps, UUID, inet, NULL."""
    lead = Lead(tenant=world.a, fields={"a": "x'y\"z", "n": [1, 2.5, None]}, email="é@example.com")
    lead.pk = Lead.objects.create(tenant=world.a).pk + 1000
    sql, params = insert_json_sql(Lead, [lead], with_pk=True)
    endpoint = EndpointFactory(tenant=world.a)
    handler = InboundHandlerFactory(tenant=world.a)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        delivery = Delivery(tenant=world.a, lead_id=lead.pk, endpoint=endpoint, captured={})
        cursor.execute(*insert_json_sql(Delivery, [delivery]))
        call = InboundCall(
            tenant=world.a, handler=handler, client_ip="2001:db8::1", lead_id=None, parsed={}
        )
        cursor.execute(*insert_json_sql(InboundCall, [call]))
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.fields == {"a": "x'y\"z", "n": [1, 2.5, None]}
    assert stored.email == "é@example.com"
    assert stored.created_at == lead.created_at  # pre_save's value, on the object too
    assert Delivery.objects.get(lead_id=lead.pk).key == delivery.key
    row = InboundCall.objects.get(handler=handler)
    assert (row.client_ip, row.lead_id, row.created_at) == ("2001:db8::1", None, call.created_at)
