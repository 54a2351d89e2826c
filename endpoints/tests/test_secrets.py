"""No secret given to the API ever comes back: not in API answers, not in the stored request of
a call, not in the audit trail, not in the console's HTML."""

from __future__ import annotations

import json

import pytest

from endpoints.client import call_sync
from endpoints.models import Endpoint
from tenants.models import AuditEvent
from tests.factories import AdaptorFactory

SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRETS = {
    "basic": "basic-pass-4f8a2c",
    "bearer": "bearer-tok-9d1e7b",
    "query_key": "query-key-3c5f0a",
    "query_cred": "query-cred-7a2e9d",
    "header": "header-val-5b8c1f",
    "client_secret": "client-sec-2e6d4a",
    "header_row": "row-secret-8f3b6c",
}
AUTHS = [
    {"type": "basic", "username": "hub-user", "password": SECRETS["basic"]},
    {"type": "bearer", "token": SECRETS["bearer"]},
    {
        "type": "query",
        "params": f"api_key={SECRETS['query_key']}&credential={SECRETS['query_cred']}",
    },
    {"type": "header", "header_name": "X-Buyer-Key", "header_value": SECRETS["header"]},
    {
        "type": "oauth2",
        "token_url": "TOKEN_URL",
        "client_id": "hub-client",
        "client_secret": SECRETS["client_secret"],
    },
]
ACCESS_TOKEN = "access-tok-6c9e2d"


def _assert_clean(text: str, where: str) -> None:
    for secret in [*SECRETS.values(), SIGNING, SIGNING.removeprefix("whsec_"), ACCESS_TOKEN]:
        assert secret not in text, f"{secret} leaked in {where}"


@pytest.fixture
def created(world, httpserver):
    """One endpoint per auth type, each with a signing secret and a secret header."""
    httpserver.expect_request("/token").respond_with_json(
        {"access_token": ACCESS_TOKEN, "expires_in": 3600}
    )
    httpserver.expect_request("/buyer").respond_with_data("ok")
    adaptor = AdaptorFactory(tenant=world.a)
    answers = []
    for auth in AUTHS:
        auth = {k: httpserver.url_for("/token") if v == "TOKEN_URL" else v for k, v in auth.items()}
        response = world.api_a.post(
            "/api/v1/endpoints/",
            {
                "name": f"Buyer {auth['type']}",
                "url": httpserver.url_for("/buyer"),
                "adaptor": adaptor.pk,
                "auth": auth,
                "signing_secret": SIGNING,
                "headers": [
                    {"name": "X-Source", "value": "hub"},
                    {"name": "Authorization-Extra", "value": SECRETS["header_row"]},
                ],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        answers.append(response.content.decode())
    return answers


def test_no_secret_in_any_api_answer(world, created):
    ids = [json.loads(a)["id"] for a in created]
    texts = list(created)
    texts.append(world.api_a.get("/api/v1/endpoints/").content.decode())
    for pk in ids:
        url = f"/api/v1/endpoints/{pk}/"
        texts.append(world.api_a.get(url).content.decode())
        texts.append(world.api_a.patch(url, {"name": "renamed"}, format="json").content.decode())

    for index, text in enumerate(texts):
        _assert_clean(text, f"API answer {index}")
    assert all(json.loads(t)["has_signing_secret"] for t in created)


def test_no_secret_in_the_stored_request_of_any_call(world, created, httpserver):
    for endpoint in Endpoint.objects.select_related("adaptor").filter(tenant=world.a):
        result = call_sync(endpoint, {"first_name": "Ada"}, idempotency_key="k-1")
        assert result.outcome == "accepted", (endpoint.auth_type, result.result)
        _assert_clean(json.dumps(result.request), f"request of {endpoint.auth_type}")
        _assert_clean(json.dumps(result.response), f"response of {endpoint.auth_type}")
    # The secrets did reach the buyer: redaction is only in what we store.
    sent = " ".join(str(dict(r.headers)) + r.full_path for r, _ in httpserver.log)
    assert SECRETS["bearer"] in sent and SECRETS["query_key"] in sent
    assert SECRETS["header_row"] in sent


def test_no_secret_in_the_audit_trail(world, created):
    events = AuditEvent.objects.filter(tenant=world.a, object_type="endpoints.endpoint")
    assert events.count() == len(AUTHS)
    _assert_clean(json.dumps([[e.before, e.after] for e in events]), "audit events")


def test_no_secret_in_the_console_pages(world, created, client):
    client.force_login(world.owner_a)
    pages = [client.get("/console/endpoints/endpoint/").content.decode()]
    for endpoint in Endpoint.objects.filter(tenant=world.a):
        page = client.get(f"/console/endpoints/endpoint/{endpoint.pk}/change/")
        assert page.status_code == 200
        pages.append(page.content.decode())

    for index, html in enumerate(pages):
        _assert_clean(html, f"console page {index}")
    assert "Set — leave blank to keep it." in pages[1]
