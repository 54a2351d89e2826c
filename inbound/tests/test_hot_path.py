"""The receiver's hot path stays a bounded number of queries, whatever the handler does."""

from __future__ import annotations

import json

import pytest

from leads.models import Lead
from tests.factories import EndpointFactory

pytestmark = pytest.mark.django_db

# A new lead takes the group-commit path (inbound.batch): one script with the advisory lock,
# the lead id, the NOTIFY and the look-up of an identical earlier call or a lead to update,
# one with the inserts of the lead, its deliveries and the call row; in a test the
# transaction is a savepoint (two more). The handler is cached per process; routing reads
# its cached config only.
MAX_QUERIES = 4


def lead_body(index: int) -> bytes:
    return json.dumps(
        {
            "contact": {"email": f"lead{index}@example.com", "phone": f"41555501{index:02d}"},
            "first": "Ada",
            "age": index,
        }
    ).encode()


def test_accepted_lead_takes_a_bounded_number_of_queries(
    world, make_handler, hooks, django_assert_max_num_queries
):
    for _ in range(3):
        EndpointFactory(tenant=world.a)
    handler = make_handler(
        protection_period_seconds=300,
        conditions={"all": [{"field": "contact.email", "op": "not_empty"}]},
    )
    hooks.post(handler, lead_body(0))  # warm the lead-field catalogue like a running server
    for index in range(1, 4):
        with django_assert_max_num_queries(MAX_QUERIES):
            response = hooks.post(handler, lead_body(index))
        assert response.status_code == 201, response.content
    assert Lead.objects.count() == 4


def test_duplicate_and_error_calls_take_no_more_queries_than_a_new_lead(
    make_handler, hooks, django_assert_max_num_queries
):
    handler = make_handler(protection_period_seconds=300)
    hooks.post(handler, lead_body(1))
    # The batch's look-up finds the original answer; the duplicate's row (+ test savepoints).
    with django_assert_max_num_queries(4):
        assert hooks.post(handler, lead_body(1)).status_code == 201
    with django_assert_max_num_queries(3):
        assert hooks.post(handler, b"{oops").status_code == 400


def test_handler_changes_apply_at_once_despite_the_handler_cache(make_handler, hooks):
    handler = make_handler()
    assert hooks.post(handler, lead_body(1)).status_code == 201  # cached from here on
    handler.active = False
    handler.save()
    assert hooks.post(handler, lead_body(2)).status_code == 404
    handler.active = True
    handler.save()
    assert hooks.post(handler, lead_body(3)).status_code == 201


def test_hooks_skip_the_session_stack_and_other_paths_do_not(make_handler, hooks, client):
    handler = make_handler()
    hooks.client.cookies["sessionid"] = "not-a-session"
    response = hooks.post(handler, lead_body(1))
    assert response.status_code == 201, response.content
    # The session middleware would have read the cookie and said so in Vary.
    assert "Cookie" not in response.get("Vary", "")
    assert "Cookie" in client.get("/console/").get("Vary", "")
    assert client.generic("POST", handler.path + "/extra", b"{}").status_code == 404
