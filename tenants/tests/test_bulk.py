import pytest

from leads.models import Lead
from tenants.bulk import bulk_update_values
from tests.factories import LeadFactory

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
