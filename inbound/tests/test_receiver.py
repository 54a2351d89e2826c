"""The public receiver: body types, mappings, answers and what each call leaves in the log."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.db import OperationalError, connection

from deliveries.models import Delivery
from inbound.responses import validate_response
from leads.models import Lead, LeadField
from logs.models import InboundCall
from tests.factories import EndpointFactory, LeadFactory

pytestmark = pytest.mark.django_db

CONTACT = {"contact": {"email": "Ada@Example.com", "phone": "(415) 555-0100"}, "first": "Ada"}


def only_call() -> InboundCall:
    return InboundCall.objects.get()


def test_json_call_stores_the_mapped_lead_and_answers_201(make_handler, hooks, campaign):
    handler = make_handler()
    response = hooks.post(handler, {**CONTACT, "age": "42", "ignored_extra": "x"})
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert response.json() == {"status": "accepted", "lead_id": lead.pk}
    assert lead.tenant_id == handler.tenant_id
    assert lead.campaign == campaign
    assert lead.fields == {
        "email": "ada@example.com",
        "phone": "+14155550100",
        "first_name": "Ada",
        "age": "42",
    }
    call = only_call()
    assert call.status == "success"
    assert call.lead_id == lead.pk
    assert call.response_status == 201
    assert json.loads(call.response_body) == {"status": "accepted", "lead_id": lead.pk}


def test_form_call_is_parsed_like_json(make_handler, hooks):
    handler = make_handler(body_type="form")
    body = "contact.email=ada%40example.com&contact.phone=4155550100&first=Ada"
    response = hooks.post(handler, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content
    assert Lead.objects.get().fields == {
        "email": "ada@example.com",
        "phone": "+14155550100",
        "first_name": "Ada",
    }
    assert only_call().parsed["contact.email"] == "ada@example.com"


def test_multipart_form_call_is_accepted(make_handler, hooks):
    handler = make_handler(body_type="form")
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="contact.email"\r\n\r\n'
        f'ada@example.com\r\n--{boundary}\r\nContent-Disposition: form-data; name="first"'
        f"\r\n\r\nAda\r\n--{boundary}--\r\n"
    )
    response = hooks.post(handler, body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.content
    assert Lead.objects.get().fields == {"email": "ada@example.com", "first_name": "Ada"}


def test_xml_call_maps_nested_elements(make_handler, hooks):
    handler = make_handler(body_type="xml")
    body = (
        '<?xml version="1.0"?><lead><contact><email>ada@example.com</email>'
        "<phone>4155550100</phone></contact><first>Ada</first><age>42</age></lead>"
    )
    response = hooks.post(handler, body, content_type="application/xml")
    assert response.status_code == 201, response.content
    assert Lead.objects.get().fields == {
        "email": "ada@example.com",
        "phone": "+14155550100",
        "first_name": "Ada",
        "age": "42",
    }


def test_xml_with_a_doctype_is_refused_without_expanding_entities(make_handler, hooks):
    handler = make_handler(body_type="xml")
    body = (
        '<?xml version="1.0"?><!DOCTYPE lead [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<lead><contact><email>&b;@example.com</email></contact></lead>"
    )
    response = hooks.post(handler, body, content_type="text/xml")
    assert response.status_code == 400
    assert "DOCTYPE" in response.json()["error"]
    assert not Lead.objects.exists()
    assert only_call().status == "error"


def test_handler_without_mappings_stores_parameters_under_their_own_names(make_handler, hooks):
    handler = make_handler(parameters=[], mappings=[])
    response = hooks.post(handler, {"email": "ada@example.com", "first_name": "Ada", "x": 1})
    assert response.status_code == 201
    assert Lead.objects.get().fields == {"email": "ada@example.com", "first_name": "Ada", "x": "1"}


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b'{"contact": ', "application/json", "Malformed JSON"),
        (b"[1, 2]", "application/json", "must be an object"),
        (b"", "application/json", "empty"),
        (b'{"contact": {"email": "a@b.co"}}', "text/plain", "Content-Type must be"),
        (b'{"contact": {"email": "a@b.co"}}', "", "Content-Type must be"),
        (b'{"first": "\xff\xfe"}', "application/json", "not valid utf-8"),
        (b'{"contact": {"email": "a@b.co"}, "age": NaN}', "application/json", "NaN"),
        (b'{"age": 1' + b"0" * 5000 + b"}", "application/json", "too large"),
        (b'{"age": 1e999}', "application/json", "too large"),
        (b"[" * 40 + b"]" * 40, "application/json", "nested deeper"),
        (b"[" * 100_000, "application/json", "nested deeper"),
        (b'{"first": "a\\u0000b", "contact": {"email": "a@b.co"}}', "application/json", "NUL"),
        (b'{"first": "\\ud800", "contact": {"email": "a@b.co"}}', "application/json", "unicode"),
        (b'{"contact": {"email": "a@b.co"}}', "application/json; charset=klingon", "charset"),
    ],
)
def test_bad_bodies_answer_400_naming_the_problem(
    make_handler, hooks, body, content_type, fragment
):
    handler = make_handler()
    response = hooks.post(handler, body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["status"] == "error"
    assert fragment.lower() in payload["error"].lower()
    assert not Lead.objects.exists()
    call = only_call()
    assert call.status == "error"
    assert call.response_status == 400
    assert fragment.lower() in call.error.lower()


def test_missing_required_parameter_is_a_400_naming_it(make_handler, hooks):
    handler = make_handler()
    response = hooks.post(handler, {"first": "Ada"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"contact.email": ["This parameter is required."]}
    assert not Lead.objects.exists()


def test_parameter_of_the_wrong_type_is_a_400_naming_it(make_handler, hooks):
    handler = make_handler()
    response = hooks.post(handler, {**CONTACT, "age": "forty"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["age"]
    assert "integer" in response.json()["errors"]["age"][0]


def test_invalid_lead_value_is_a_400_naming_the_parameter(make_handler, hooks):
    handler = make_handler()
    response = hooks.post(handler, {"contact": {"email": "not-an-email"}})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["contact.email"]
    assert "email" in response.json()["error"]


def test_required_lead_field_missing_from_a_new_lead_is_a_400(world, make_handler, hooks):
    LeadField.objects.filter(tenant=world.a, name="first_name").update(required=True)
    from leads.services import forget_catalogue

    forget_catalogue(world.a.pk)
    handler = make_handler()
    response = hooks.post(handler, {"contact": {"email": "ada@example.com"}})
    assert response.status_code == 400
    assert "first" in response.json()["errors"]
    assert not Lead.objects.exists()
    assert only_call().status == "error"


def test_unknown_token_is_404_and_inactive_handler_is_404_and_logged(make_handler, hooks):
    handler = make_handler(active=False)
    response = hooks.client.post("/hooks/no-such-token", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"status": "not_found"}
    assert not InboundCall.objects.exists()
    response = hooks.post(handler, CONTACT)
    assert response.status_code == 404
    assert not Lead.objects.exists()
    assert only_call().error == "The handler is inactive."


@pytest.mark.parametrize("path", ["/hooks/ab%00cd", "/hooks/%ff%fe", "/hooks/" + "x" * 500])
def test_malformed_tokens_are_404(hooks, path):
    response = hooks.client.post(path, b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"status": "not_found"}


def test_wrong_method_is_405_with_allow(make_handler, hooks):
    handler = make_handler()
    response = hooks.get(handler, "contact.email=ada@example.com")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert only_call().status == "error"


def test_conditions_not_met_answer_ignored_and_store_nothing(make_handler, hooks):
    handler = make_handler(
        conditions={
            "all": [
                {"field": "contact.email", "op": "ends_with", "value": "@example.com", "ci": True}
            ]
        }
    )
    response = hooks.post(handler, {"contact": {"email": "ada@other.org"}})
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert not Lead.objects.exists()
    call = only_call()
    assert call.status == "ignored"
    assert call.error
    assert hooks.post(handler, CONTACT).status_code == 201


def test_duplicate_inside_protection_period_creates_no_lead(make_handler, hooks):
    handler = make_handler(protection_period_seconds=60)
    first = hooks.post(handler, CONTACT)
    second = hooks.post(handler, CONTACT)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert Lead.objects.count() == 1
    statuses = list(InboundCall.objects.order_by("id").values_list("status", "lead_id"))
    lead_id = Lead.objects.get().pk
    assert statuses == [("success", lead_id), ("duplicate", lead_id)]


def test_identical_call_after_the_protection_period_is_stored_again(make_handler, hooks):
    handler = make_handler(protection_period_seconds=60, actions=[])
    with time_machine.travel("2026-03-01 12:00:00+00:00", tick=False):
        assert hooks.post(handler, CONTACT).status_code == 201
    with time_machine.travel("2026-03-01 12:01:01+00:00", tick=False):
        response = hooks.post(handler, CONTACT)
    # Same email: the second call updates the lead rather than duplicating it.
    assert response.status_code == 200
    assert response.json()["status"] == "updated"
    assert list(InboundCall.objects.values_list("status", flat=True)) == ["success", "success"]


def test_different_query_string_is_not_a_duplicate(make_handler, hooks):
    handler = make_handler(protection_period_seconds=60, actions=[])
    hooks.post(handler, CONTACT)
    hooks.post(handler, CONTACT, QUERY_STRING="src=2")
    keys = set(InboundCall.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == 2
    assert set(InboundCall.objects.values_list("status", flat=True)) == {"success"}


def test_no_protection_period_means_no_duplicates(make_handler, hooks):
    handler = make_handler(protection_period_seconds=0, parameters=[], mappings=[])
    hooks.post(handler, {"first_name": "Ada"})
    hooks.post(handler, {"first_name": "Ada"})
    assert Lead.objects.count() == 2


def test_call_with_a_known_email_updates_that_lead(world, make_handler, hooks):
    existing = LeadFactory(tenant=world.a, fields={"email": "ada@example.com", "city": "Paris"})
    other_tenant = LeadFactory(tenant=world.b, fields={"email": "ada@example.com"})
    handler = make_handler()
    response = hooks.post(handler, {"contact": {"email": "ADA@example.com"}, "first": "Ada"})
    assert response.status_code == 200
    assert response.json() == {"status": "updated", "lead_id": existing.pk}
    existing.refresh_from_db()
    other_tenant.refresh_from_db()
    assert existing.fields == {"email": "ada@example.com", "city": "Paris", "first_name": "Ada"}
    assert other_tenant.fields == {"email": "ada@example.com"}
    assert Lead.objects.filter(tenant=world.a).count() == 1


def test_call_matching_only_by_phone_updates_that_lead(world, make_handler, hooks):
    existing = LeadFactory(tenant=world.a, fields={"phone": "+14155550100"})
    handler = make_handler()
    response = hooks.post(
        handler, {"contact": {"email": "new@example.com", "phone": "415-555-0100"}}
    )
    assert response.json()["lead_id"] == existing.pk
    existing.refresh_from_db()
    assert existing.fields["email"] == "new@example.com"


def test_email_match_wins_over_phone_match(world, make_handler, hooks):
    by_email = LeadFactory(tenant=world.a, fields={"email": "ada@example.com"})
    LeadFactory(tenant=world.a, fields={"phone": "+14155550100"})
    handler = make_handler()
    response = hooks.post(handler, CONTACT)
    assert response.json()["lead_id"] == by_email.pk


def test_updated_lead_is_not_distributed_again(world, make_handler, hooks):
    EndpointFactory(tenant=world.a)
    handler = make_handler()
    hooks.post(handler, CONTACT)
    hooks.post(handler, {**CONTACT, "first": "Augusta"})
    lead = Lead.objects.get()
    assert lead.fields["first_name"] == "Augusta"
    assert Delivery.objects.filter(lead=lead).count() == 1


def test_distribute_action_writes_pending_deliveries(world, make_handler, hooks):
    endpoint = EndpointFactory(tenant=world.a)
    EndpointFactory(tenant=world.b)
    handler = make_handler(actions=[{"type": "distribute"}])
    response = hooks.post(handler, CONTACT)
    assert response.status_code == 201
    deliveries = list(Delivery.objects.all())
    assert [(d.endpoint_id, d.status) for d in deliveries] == [(endpoint.pk, "pending")]
    assert deliveries[0].lead_id == response.json()["lead_id"]


def test_deliver_action_targets_exactly_that_endpoint(world, make_handler, hooks):
    EndpointFactory(tenant=world.a, name="broadcast one")
    chosen = EndpointFactory(tenant=world.a, name="chosen")
    handler = make_handler(actions=[{"type": "deliver", "endpoint": chosen.pk}])
    response = hooks.post(handler, CONTACT)
    assert response.status_code == 201
    assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [chosen.pk]


def test_distribute_and_deliver_do_not_send_twice_to_the_same_endpoint(world, make_handler, hooks):
    first = EndpointFactory(tenant=world.a)
    second = EndpointFactory(tenant=world.a)
    handler = make_handler(
        actions=[{"type": "distribute"}, {"type": "deliver", "endpoint": first.pk}]
    )
    hooks.post(handler, CONTACT)
    assert sorted(Delivery.objects.values_list("endpoint_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )


def test_no_actions_stores_the_lead_without_deliveries(world, make_handler, hooks):
    EndpointFactory(tenant=world.a)
    handler = make_handler(actions=[])
    assert hooks.post(handler, CONTACT).status_code == 201
    assert Lead.objects.count() == 1
    assert not Delivery.objects.exists()


def test_notify_action_mails_after_commit(
    make_handler, hooks, mailoutbox, django_capture_on_commit_callbacks
):
    handler = make_handler(actions=[{"type": "notify", "email": "ops@example.com"}])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = hooks.post(handler, CONTACT)
    assert response.status_code == 201
    assert mailoutbox == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ops@example.com"]
    assert str(response.json()["lead_id"]) in message.subject
    assert "ada@example.com" in message.body


def test_response_template_renders_lead_and_status(make_handler, hooks):
    handler = make_handler(
        response={
            "status_code": 200,
            "content_type": "text/plain",
            "body": "OK {{ status }} {{ lead.id }} {{ lead.email }} {{ lead.fields.first_name }}",
        }
    )
    response = hooks.post(handler, CONTACT)
    lead = Lead.objects.get()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content.decode() == f"OK accepted {lead.pk} ada@example.com Ada"
    assert only_call().response_body == response.content.decode()


def test_response_template_failing_at_runtime_falls_back_to_the_default(make_handler, hooks):
    # Valid for the sample lead (zip 94105); this lead has no zip code to make a number of.
    config = validate_response({"body": "{{ 1000000 // (lead.zip_code|int) }}"})
    handler = make_handler(response=config)
    response = hooks.post(handler, CONTACT)
    lead = Lead.objects.get()
    assert response.status_code == 201
    assert response.json() == {"status": "accepted", "lead_id": lead.pk}
    assert only_call().error.startswith("Response template failed: response.body:")
    assert "zip_code" in only_call().error


def test_duplicate_answers_the_original_templated_response(make_handler, hooks):
    handler = make_handler(
        protection_period_seconds=300,
        response={"status_code": 202, "content_type": "text/plain", "body": "id={{ lead.id }}"},
    )
    first = hooks.post(handler, CONTACT)
    second = hooks.post(handler, CONTACT)
    assert second.status_code == 202
    assert second["Content-Type"] == "text/plain"
    assert second.content == first.content


def test_call_log_keeps_the_request_with_secrets_redacted(make_handler, hooks):
    handler = make_handler()
    hooks.post(
        handler,
        CONTACT,
        QUERY_STRING="source=fb",
        HTTP_AUTHORIZATION="Bearer top-secret",
        HTTP_X_SOURCE="partner-7",
        REMOTE_ADDR="203.0.113.9",
    )
    call = only_call()
    assert call.method == "POST"
    assert call.client_ip == "203.0.113.9"
    assert call.headers["Authorization"] == "********"
    assert call.headers["X-Source"] == "partner-7"
    assert "top-secret" not in json.dumps(call.headers)
    assert json.loads(call.raw_body) == CONTACT
    assert call.query == "source=fb"
    assert call.content_type == "application/json"
    assert call.parsed["contact.email"] == "Ada@Example.com"
    assert len(call.dedupe_key) == 64


def test_database_outage_answers_503_and_never_2xx(make_handler, hooks):
    handler = make_handler()

    def outage(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(outage):
        response = hooks.post(handler, CONTACT)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert not Lead.objects.exists()


def test_outage_while_storing_rolls_back_the_lead(make_handler, hooks):
    handler = make_handler()

    def fail_on_call_insert(execute, sql, params, many, context):
        if 'INSERT INTO "logs_inboundcall"' in sql:
            raise OperationalError("connection lost")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_on_call_insert):
        response = hooks.post(handler, CONTACT)
    assert response.status_code == 503
    assert not Lead.objects.exists()


def test_mapping_renames_a_parameter_to_a_lead_field(make_handler, hooks):
    handler = make_handler(
        parameters=[{"name": "mail", "type": "text"}],
        mappings=[{"parameter": "mail", "lead_field": "email"}],
    )
    assert hooks.post(handler, {"mail": "ada@example.com"}).status_code == 201
    lead = Lead.objects.get()
    assert lead.email == "ada@example.com"
    assert "mail" not in lead.fields


def test_notify_task_reads_the_addresses_and_lead_when_it_runs(world, make_handler, mailoutbox):
    from inbound.tasks import notify

    handler = make_handler(actions=[{"type": "notify", "email": "sales@example.com"}])
    lead = LeadFactory(tenant=world.a, fields={"email": "ada@example.com"})
    assert notify(lead.pk, handler.pk, False) == 1
    assert mailoutbox[0].to == ["sales@example.com"]
    assert mailoutbox[0].subject.startswith("[Lead hub] Lead updated")
    assert notify(lead.pk + 10_000, handler.pk, True) == 0
    assert len(mailoutbox) == 1
