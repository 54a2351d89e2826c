"""OAuth2 client credentials: the token endpoint is a real local server too."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from django.core.cache import cache
from werkzeug import Response

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class TokenServer:
    """Issues token-1, token-2, … and records each token request's form."""

    def __init__(self, httpserver, expires_in=3600):
        self.forms: list[dict] = []
        self.expires_in = expires_in
        httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(self.issue)

    def issue(self, request):
        self.forms.append({k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()})
        self.forms[-1]["_authorization"] = request.headers.get("Authorization", "")
        body = {
            "access_token": f"token-{len(self.forms)}-abcdefgh",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return Response(json.dumps(body), content_type="application/json")


def _oauth_endpoint(make_endpoint, httpserver, **auth):
    return make_endpoint(
        httpserver.url_for("/buyer"),
        auth={
            "type": "oauth2",
            "token_url": httpserver.url_for("/oauth/token"),
            "client_id": "hub-client",
            "scope": "leads.write",
            **auth,
        },
        secrets={"client_secret": "client-secret-777"},
    )


def test_token_is_fetched_once_and_reused_across_calls(call, make_endpoint, httpserver):
    tokens = TokenServer(httpserver)
    httpserver.expect_request("/buyer").respond_with_data("ok")
    endpoint = _oauth_endpoint(make_endpoint, httpserver)

    first = call(endpoint)
    second = call(endpoint)

    assert (first.outcome, second.outcome) == ("accepted", "accepted")
    assert len(tokens.forms) == 1
    assert tokens.forms[0] == {
        "grant_type": "client_credentials",
        "scope": "leads.write",
        "client_id": "hub-client",
        "client_secret": "client-secret-777",
        "_authorization": "",
    }
    buyer_calls = [r for r, _ in httpserver.log if r.path == "/buyer"]
    assert [r.headers["Authorization"] for r in buyer_calls] == ["Bearer token-1-abcdefgh"] * 2
    stored = json.dumps(first.request)
    assert "token-1-abcdefgh" not in stored and "client-secret-777" not in stored


def test_a_401_refetches_the_token_once_and_resends(call, make_endpoint, httpserver):
    tokens = TokenServer(httpserver)

    def buyer(request):
        if request.headers.get("Authorization") == "Bearer token-1-abcdefgh":
            return Response("expired", status=401)
        return Response("ok")

    httpserver.expect_request("/buyer").respond_with_handler(buyer)
    endpoint = _oauth_endpoint(make_endpoint, httpserver)

    result = call(endpoint)

    assert result.outcome == "accepted", result.result
    assert len(tokens.forms) == 2
    buyer_calls = [r.headers["Authorization"] for r, _ in httpserver.log if r.path == "/buyer"]
    assert buyer_calls == ["Bearer token-1-abcdefgh", "Bearer token-2-abcdefgh"]


def test_a_buyer_that_keeps_answering_401_is_rejected_after_one_refresh(
    call, make_endpoint, httpserver
):
    tokens = TokenServer(httpserver)
    httpserver.expect_request("/buyer").respond_with_data("nope", status=401)
    endpoint = _oauth_endpoint(make_endpoint, httpserver)

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("rejected", False)
    assert len(tokens.forms) == 2
    assert len([r for r, _ in httpserver.log if r.path == "/buyer"]) == 2


def test_client_basic_auth_to_the_token_endpoint(call, make_endpoint, httpserver):
    tokens = TokenServer(httpserver)
    httpserver.expect_request("/buyer").respond_with_data("ok")
    endpoint = _oauth_endpoint(make_endpoint, httpserver, client_auth="basic")

    call(endpoint)

    assert "client_secret" not in tokens.forms[0]
    assert tokens.forms[0]["_authorization"].startswith("Basic ")


def test_a_token_endpoint_refusal_is_a_clear_permanent_error(call, make_endpoint, httpserver):
    httpserver.expect_request("/oauth/token").respond_with_json(
        {"error": "invalid_client"}, status=401
    )
    endpoint = _oauth_endpoint(make_endpoint, httpserver)

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", False)
    assert result.result == "OAuth2 token request failed: HTTP 401"
    assert not [r for r, _ in httpserver.log if r.path == "/buyer"]


def test_a_token_endpoint_outage_is_transient(call, make_endpoint, httpserver):
    httpserver.expect_request("/oauth/token").respond_with_data("down", status=503)
    endpoint = _oauth_endpoint(make_endpoint, httpserver)

    result = call(endpoint)

    assert (result.outcome, result.transient) == ("error", True)


def test_changing_the_endpoint_drops_the_cached_token(call, make_endpoint, httpserver):
    tokens = TokenServer(httpserver)
    httpserver.expect_request("/buyer").respond_with_data("ok")
    endpoint = _oauth_endpoint(make_endpoint, httpserver)
    call(endpoint)

    endpoint.name = "Renamed"
    endpoint.save()
    call(endpoint)

    assert len(tokens.forms) == 2


def test_a_short_lived_token_is_not_cached_past_its_expiry(call, make_endpoint, httpserver):
    tokens = TokenServer(httpserver, expires_in=1)
    httpserver.expect_request("/buyer").respond_with_data("ok")
    endpoint = _oauth_endpoint(make_endpoint, httpserver)

    call(endpoint)
    call(endpoint)

    assert len(tokens.forms) == 2
