"""Console pages of deliveries: list filters, detail with attempts, Retry and Cancel."""

from __future__ import annotations

import pytest
from django.test import Client

from deliveries.models import Delivery, Status
from tests.factories import CallLogFactory, DeliveryFactory, EndpointFactory, member

pytestmark = pytest.mark.django_db

LIST = "/console/deliveries/delivery/"


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(delivery) -> str:
    return f"{LIST}{delivery.pk}/change/"


def test_list_filters_by_status_and_endpoint(world):
    wanted_endpoint = EndpointFactory(tenant=world.a, name="Acme CRM")
    wanted = DeliveryFactory(tenant=world.a, endpoint=wanted_endpoint, status=Status.FAILED)
    other_status = DeliveryFactory(tenant=world.a, endpoint=wanted_endpoint)
    other_endpoint = DeliveryFactory(tenant=world.a, status=Status.FAILED)
    EndpointFactory(tenant=world.b, name="Bravo secret buyer")
    client = console(world.owner_a)
    response = client.get(LIST, {"status": "failed", "endpoint": wanted_endpoint.pk})
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == {wanted.pk}
    assert other_status.pk not in shown and other_endpoint.pk not in shown
    html = response.content.decode()
    assert "Acme CRM" in html
    assert "Bravo secret buyer" not in html  # the endpoint filter lists only our endpoints


def test_list_shows_only_the_tenants_deliveries(world):
    mine = DeliveryFactory(tenant=world.a)
    theirs = DeliveryFactory(tenant=world.b)
    shown = {o.pk for o in console(world.owner_a).get(LIST).context["cl"].result_list}
    assert mine.pk in shown and theirs.pk not in shown


def test_detail_lists_attempts_linking_to_their_call_logs(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.RETRYING, attempts=1)
    log = CallLogFactory(
        tenant=world.a,
        endpoint=delivery.endpoint,
        delivery=delivery,
        outcome="error",
        result="HTTP 502",
    )
    html = console(world.owner_a).get(page(delivery)).content.decode()
    assert f'href="/console/logs/calllog/{log.pk}/change/"' in html
    assert "HTTP 502" in html
    assert f"/console/x/deliveries/{delivery.pk}/retry/" in html
    assert f"/console/x/deliveries/{delivery.pk}/cancel/" in html


def test_another_tenants_delivery_page_is_not_found(world):
    theirs = DeliveryFactory(tenant=world.b)
    client = console(world.owner_a)
    assert client.get(page(theirs)).status_code == 404
    assert client.post(f"/console/x/deliveries/{theirs.pk}/retry/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.PENDING


def test_retry_and_cancel_buttons(world):
    failed = DeliveryFactory(tenant=world.a, status=Status.FAILED, attempts=3)
    waiting = DeliveryFactory(tenant=world.a, status=Status.RETRYING)
    client = console(world.owner_a)
    response = client.post(f"/console/x/deliveries/{failed.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == page(failed)
    response = client.post(f"/console/x/deliveries/{waiting.pk}/cancel/")
    assert response.status_code == 302
    failed.refresh_from_db()
    waiting.refresh_from_db()
    assert failed.status == Status.PENDING
    assert waiting.status == Status.CANCELED


def test_buttons_answer_only_post(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.FAILED)
    assert (
        console(world.owner_a).get(f"/console/x/deliveries/{delivery.pk}/retry/").status_code == 405
    )


def test_bulk_retry_and_cancel_actions(world):
    failed = [DeliveryFactory(tenant=world.a, status=Status.FAILED) for _ in range(2)]
    pending = DeliveryFactory(tenant=world.a)
    client = console(world.owner_a)
    client.post(LIST, {"action": "retry_selected", "_selected_action": [d.pk for d in failed]})
    statuses = Delivery.objects.filter(pk__in=[d.pk for d in failed]).values_list(
        "status", flat=True
    )
    assert set(statuses) == {Status.PENDING}
    client.post(LIST, {"action": "cancel_selected", "_selected_action": [pending.pk, failed[0].pk]})
    pending.refresh_from_db()
    assert pending.status == Status.CANCELED
    failed[0].refresh_from_db()
    assert failed[0].status == Status.CANCELED  # it was pending again after the retry


def test_viewers_see_no_buttons_and_cannot_act(world):
    delivery = DeliveryFactory(tenant=world.a, status=Status.FAILED)
    client = console(world.viewer_a)
    html = client.get(page(delivery)).content.decode()
    assert f"/console/x/deliveries/{delivery.pk}/retry/" not in html
    assert client.post(f"/console/x/deliveries/{delivery.pk}/retry/").status_code == 403
    client.post(LIST, {"action": "retry_selected", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED


def test_admins_of_another_tenant_cannot_act_through_bulk_actions(world):
    theirs = DeliveryFactory(tenant=world.b, status=Status.FAILED)
    console(member(world.a)).post(
        LIST, {"action": "retry_selected", "_selected_action": [theirs.pk]}
    )
    theirs.refresh_from_db()
    assert theirs.status == Status.FAILED


def test_search_by_lead_id_or_key_tolerates_any_text(world):
    delivery = DeliveryFactory(tenant=world.a)
    DeliveryFactory(tenant=world.a)
    client = console(world.owner_a)
    for term in (str(delivery.lead_id), str(delivery.key)):
        shown = {o.pk for o in client.get(LIST, {"q": term}).context["cl"].result_list}
        assert shown == {delivery.pk}
    assert client.get(LIST, {"q": "not a number or key"}).status_code == 200
