"""The request-bin API: CRUD, the received requests, and tenant isolation."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from sandbox.models import BinRequest, RequestBin
from tests.factories import RequestBinFactory
from tests.isolation import TenantIsolationCases

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


class TestRequestBinIsolation(TenantIsolationCases):
    url = "/api/v1/request-bins/"

    def make(self, tenant):
        return RequestBinFactory(tenant=tenant)

    def payload(self, world):
        return {"name": "HubSpot rehearsal", "response_status": 201}


def _post_to(bin: RequestBin, body: str) -> None:
    Client().post(bin.path, body, content_type="text/plain")


def test_created_bin_answers_its_public_url_and_defaults(world):
    response = world.api_a.post("/api/v1/request-bins/", {"name": "Rehearsal"}, format="json")
    assert response.status_code == 201
    data = response.json()
    bin = RequestBin.objects.get(pk=data["id"])
    assert bin.tenant == world.a
    assert data["url"] == f"http://testserver/sandbox/{bin.token}"
    assert data["token"] == bin.token
    assert (data["response_status"], data["request_count"]) == (200, 0)


def test_token_cannot_be_chosen_by_the_client(world):
    response = world.api_a.post(
        "/api/v1/request-bins/", {"name": "x", "token": "mine"}, format="json"
    )
    assert response.json()["token"] != "mine"


def test_public_url_uses_the_configured_public_address(world, settings):
    settings.HUB_PUBLIC_URL = "https://hub.example.com/"
    bin = RequestBinFactory(tenant=world.a)
    data = world.api_a.get(f"/api/v1/request-bins/{bin.pk}/").json()
    assert data["url"] == f"https://hub.example.com/sandbox/{bin.token}"


@pytest.mark.parametrize("status", [99, 600, "abc"])
def test_an_impossible_response_status_is_a_400_naming_the_field(world, status):
    response = world.api_a.post(
        "/api/v1/request-bins/", {"name": "x", "response_status": status}, format="json"
    )
    assert response.status_code == 400
    assert "response_status" in response.json()


def test_requests_are_listed_newest_first_with_a_count(world):
    bin = RequestBinFactory(tenant=world.a)
    for body in ("first", "second", "third"):
        _post_to(bin, body)
    listing = world.api_a.get(f"/api/v1/request-bins/{bin.pk}/requests/").json()
    assert listing["count"] == 3
    assert [r["body"] for r in listing["results"]] == ["third", "second", "first"]
    assert set(listing["results"][0]) >= {"method", "path", "query", "headers", "body"}
    detail = world.api_a.get(f"/api/v1/request-bins/{bin.pk}/").json()
    assert detail["request_count"] == 3
    assert detail["last_request_at"] is not None


def test_request_list_filters_by_method_and_text(world):
    bin = RequestBinFactory(tenant=world.a)
    _post_to(bin, "lead ada")
    Client().get(bin.path)
    url = f"/api/v1/request-bins/{bin.pk}/requests/"
    assert [r["method"] for r in world.api_a.get(url, {"method": "get"}).json()["results"]] == [
        "GET"
    ]
    assert [r["body"] for r in world.api_a.get(url, {"q": "ADA"}).json()["results"]] == ["lead ada"]
    assert world.api_a.get(url, {"since": "not-a-date"}).status_code == 400


def test_another_tenants_bin_requests_are_not_found(world):
    bin = RequestBinFactory(tenant=world.a)
    _post_to(bin, "private")
    assert world.api_b.get(f"/api/v1/request-bins/{bin.pk}/requests/").status_code == 404
    assert world.api_a_viewer.get(f"/api/v1/request-bins/{bin.pk}/requests/").status_code == 200
    assert world.api_a.get("/api/v1/request-bins/abc/requests/").status_code == 404


def test_changing_the_response_changes_what_the_bin_answers(world):
    bin = RequestBinFactory(tenant=world.a)
    response = world.api_a.patch(
        f"/api/v1/request-bins/{bin.pk}/",
        {"response_status": 422, "response_body": '{"error": "duplicate"}'},
        format="json",
    )
    assert response.status_code == 200
    answer = Client().post(bin.path, "{}", content_type="application/json")
    assert answer.status_code == 422
    assert answer.json() == {"error": "duplicate"}


def test_deleting_a_bin_deletes_its_requests(world):
    bin = RequestBinFactory(tenant=world.a)
    _post_to(bin, "x")
    assert world.api_a.delete(f"/api/v1/request-bins/{bin.pk}/").status_code == 204
    assert not BinRequest.objects.filter(bin_id=bin.pk).exists()
