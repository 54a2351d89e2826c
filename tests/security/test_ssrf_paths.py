"""The SSRF guard on every outbound path: the Test API, the delivery engine, OAuth2 token
fetches and preset-created endpoints — and the warning when such a URL is saved.

``endpoints/tests/test_ssrf.py`` proves the guard on the client itself (both transports, every
address class). Here the same refusals are checked end to end through each way a tenant can make
the hub call out. Every refused destination that is a loopback spelling points at a real local
server on its real port, so a gap in the guard shows up as a request that server received.
Names resolve only through a fake resolver (the guard's seam): no real DNS query is ever sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import override_settings

from adaptors.models import Adaptor
from deliveries.dispatcher import dispatch_due
from deliveries.engine import get_engine
from deliveries.models import Delivery, Status
from endpoints import presets
from endpoints.models import Endpoint
from logs.models import CallLog
from tests.factories import AdaptorFactory, DeliveryFactory, LeadFactory

guarded = override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=False)

LOOPBACK = "is a loopback address"
METADATA = "destination 169.254.169.254 is a cloud metadata address"
OAUTH2 = {"type": "oauth2", "client_id": "hub-client"}
CLIENT_SECRET = {"client_secret": "oauth-client-secret-value"}


@dataclass(frozen=True)
class Case:
    """One refused destination: how the endpoint is configured and what the refusal says."""

    name: str
    url: str  # may contain {port}: the local server's port
    message: str
    token_url: str = ""
    dns: dict[str, list[str]] = field(default_factory=dict)

    def endpoint_fields(self, port: int) -> dict:
        fields = {"url": self.url.format(port=port)}
        if self.token_url:
            fields["auth"] = {**OAUTH2, "token_url": self.token_url.format(port=port)}
            fields["secrets"] = dict(CLIENT_SECRET)
        return fields


CASES = [
    Case("loopback", "http://127.0.0.1:{port}/leads", f"destination 127.0.0.1 {LOOPBACK}"),
    Case("decimal", "http://2130706433:{port}/leads", f"destination 127.0.0.1 {LOOPBACK}"),
    Case("octal", "http://0177.0.0.1:{port}/leads", f"destination 127.0.0.1 {LOOPBACK}"),
    Case("short-hex", "http://0x7f.1:{port}/leads", f"destination 127.0.0.1 {LOOPBACK}"),
    Case(
        "ipv4-mapped-ipv6",
        "http://[::ffff:127.0.0.1]:{port}/leads",
        f"destination ::ffff:7f00:1 (127.0.0.1) {LOOPBACK}",
    ),
    Case(
        "localhost-name",
        "http://localhost:{port}/leads",
        f"destination 127.0.0.1 {LOOPBACK}",
        dns={"localhost": ["127.0.0.1"]},
    ),
    Case(
        # A rebinding name answering a public and a private record: which one a later lookup
        # would pick is the attacker's choice, so any private record refuses the name.
        "rebinding-name",
        "http://rebind.example:{port}/leads",
        f"destination 127.0.0.1 {LOOPBACK}",
        dns={"rebind.example": ["93.184.216.34", "127.0.0.1"]},
    ),
    Case("private", "http://10.0.0.5/leads", "destination 10.0.0.5 is a private address"),
    Case("metadata", "http://169.254.169.254/latest/meta-data/", METADATA),
    Case("ula-ipv6", "http://[fd12:3456::1]/leads", "is a private address"),
    Case("link-local-ipv6", "http://[fe80::1]/leads", "is a link-local address"),
    Case("multicast", "http://224.0.0.251/leads", "is a multicast address"),
    Case("reserved", "http://240.0.0.1/leads", "is a reserved address"),
    Case(
        "oauth2-token-metadata",
        "http://127.0.0.1:{port}/leads",
        METADATA,
        token_url="http://169.254.169.254/latest/api/token",
    ),
    Case(
        "oauth2-token-metadata-decimal",
        "http://127.0.0.1:{port}/leads",
        METADATA,
        token_url="http://2852039166/token",
    ),
    Case(
        "oauth2-token-metadata-mapped-ipv6",
        "http://127.0.0.1:{port}/leads",
        "destination ::ffff:a9fe:a9fe (169.254.169.254) is a cloud metadata address",
        token_url="http://[::ffff:a9fe:a9fe]/token",
    ),
    Case(
        "oauth2-token-metadata-name",
        "http://127.0.0.1:{port}/leads",
        METADATA,
        token_url="http://metadata.example/token",
        dns={"metadata.example": ["169.254.169.254"]},
    ),
    Case(
        "oauth2-token-loopback",
        "http://127.0.0.1:{port}/leads",
        f"destination 127.0.0.1 {LOOPBACK}",
        token_url="http://127.0.0.1:{port}/token",
    ),
]


def make_endpoint(tenant, port: int, case: Case) -> Endpoint:
    return Endpoint.objects.create(
        tenant=tenant,
        name=f"SSRF {case.name}",
        adaptor=AdaptorFactory(tenant=tenant),
        timeout_seconds=5,
        **case.endpoint_fields(port),
    )


def endpoint_test_url(endpoint) -> str:
    return f"/api/v1/endpoints/{endpoint.pk}/test/"


# ---- the Test API (call_sync, httpx) --------------------------------------------------------


@guarded
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_test_api_refuses_each_non_public_destination(world, httpserver, fake_dns, case):
    httpserver.expect_request("/leads").respond_with_json({"ok": True})
    httpserver.expect_request("/token").respond_with_json({"access_token": "t", "expires_in": 60})
    fake_dns.table.update(case.dns)
    endpoint = make_endpoint(world.a, httpserver.port, case)

    response = world.api_a.post(
        endpoint_test_url(endpoint), {"fields": {"first_name": "Ada"}}, "json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["outcome"], body["test"]) == ("error", True)
    assert case.message in body["result"]
    assert body["response"]["status_code"] is None
    assert CallLog.objects.get(pk=body["id"]).outcome == "error"
    assert httpserver.log == []


@guarded
def test_the_test_api_refuses_a_private_sandbox_url(world, httpserver, fake_dns):
    httpserver.expect_request("/sandbox").respond_with_json({"ok": True})
    endpoint = Endpoint.objects.create(
        tenant=world.a,
        name="Sandboxed",
        url="https://buyer.example.com/leads",
        sandbox_url=f"http://[::ffff:127.0.0.1]:{httpserver.port}/sandbox",
        adaptor=AdaptorFactory(tenant=world.a),
        timeout_seconds=5,
    )

    body = world.api_a.post(
        endpoint_test_url(endpoint), {"fields": {"first_name": "Ada"}, "sandbox": True}, "json"
    ).json()

    assert body["outcome"] == "error"
    assert "(127.0.0.1) is a loopback address" in body["result"]
    assert httpserver.log == []
    assert fake_dns.lookups == []  # the production URL was never looked at


def test_a_redirect_is_never_followed(world, httpserver, fake_dns):
    # With the guard lifted to reach the local buyer, its redirect to another local path
    # (standing in for an internal service) must not be followed: one request, rejected.
    with override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=True):
        inner = f"http://127.0.0.1:{httpserver.port}/internal"
        httpserver.expect_request("/leads").respond_with_data(
            "", status=302, headers={"Location": inner}
        )
        httpserver.expect_request("/internal").respond_with_json({"secret": "internal"})
        endpoint = make_endpoint(world.a, httpserver.port, CASES[0])
        body = world.api_a.post(
            endpoint_test_url(endpoint), {"fields": {"first_name": "A"}}, "json"
        ).json()

    assert body["outcome"] == "rejected"
    assert body["response"]["status_code"] == 302
    assert [entry[0].path for entry in httpserver.log] == ["/leads"]


def test_the_setting_lets_the_test_api_reach_a_local_buyer(world, httpserver, fake_dns):
    httpserver.expect_request("/leads").respond_with_json({"ok": True})
    with override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=True):
        endpoint = make_endpoint(world.a, httpserver.port, CASES[0])
        body = world.api_a.post(
            endpoint_test_url(endpoint), {"fields": {"first_name": "A"}}, "json"
        ).json()

    assert body["outcome"] == "accepted", body["result"]
    assert len(httpserver.log) == 1


# ---- the delivery engine (call_async, aiohttp) ----------------------------------------------


@guarded
@pytest.mark.django_db(transaction=True)
def test_the_delivery_engine_refuses_each_non_public_destination(
    world, httpserver, fake_dns, fresh_engine
):
    """One drain for every case (transactional tests are the slow kind): each delivery fails
    at once (a refusal is not worth retrying), its log says why, the server saw nothing."""
    httpserver.expect_request("/leads").respond_with_json({"ok": True})
    httpserver.expect_request("/token").respond_with_json({"access_token": "t", "expires_in": 60})
    deliveries = {}
    for case in CASES:
        fake_dns.table.update(case.dns)
        endpoint = make_endpoint(world.a, httpserver.port, case)
        endpoint.retry = {"max_attempts": 5, "backoff_seconds": 0}
        endpoint.save()
        deliveries[case.name] = (
            case,
            DeliveryFactory(tenant=world.a, endpoint=endpoint, lead=LeadFactory(tenant=world.a)),
        )

    dispatch_due()
    assert get_engine().wait_idle(30)

    problems = []
    for case, delivery in deliveries.values():
        delivery.refresh_from_db()
        logs = list(CallLog.objects.filter(delivery=delivery).values_list("outcome", "result"))
        if delivery.status != Status.FAILED or delivery.attempts != 1:
            problems.append(f"{case.name}: {delivery.status} after {delivery.attempts} attempts")
        if case.message not in delivery.last_error:
            problems.append(f"{case.name}: last_error {delivery.last_error!r}")
        if len(logs) != 1 or logs[0][0] != "error" or case.message not in logs[0][1]:
            problems.append(f"{case.name}: call logs {logs!r}")
    assert problems == []
    assert httpserver.log == []
    assert Delivery.objects.filter(status=Status.FAILED).count() == len(CASES)


# ---- presets ---------------------------------------------------------------------------------


def _credentials(preset: presets.Preset) -> dict[str, str]:
    samples = {
        "token": "preset-token-123456",
        "oid": "00D000000000001",
        "params": "api_key=preset-key-123456",
        "signing_secret": "",
        "username": "",
        "password": "",
        "lead_source": "",
    }
    return {c.name: samples.get(c.name, "value-123456") for c in preset.credentials if c.required}


@guarded
@pytest.mark.parametrize("preset", presets.PRESETS, ids=[p.key for p in presets.PRESETS])
def test_an_endpoint_created_from_any_preset_is_warned_and_refused(
    world, httpserver, fake_dns, preset
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    local = f"http://127.0.0.1:{httpserver.port}/hook"

    created = world.api_a.post(
        "/api/v1/endpoints/from-preset/",
        {"preset": preset.key, "url": local, "credentials": _credentials(preset)},
        format="json",
    )

    assert created.status_code == 201, created.content
    warnings = created.json()["warnings"]
    assert any("loopback" in w and "will be refused" in w for w in warnings), warnings
    endpoint = Endpoint.objects.get(pk=created.json()["id"])
    body = world.api_a.post(
        endpoint_test_url(endpoint), {"fields": {"first_name": "A"}}, "json"
    ).json()
    assert body["outcome"] == "error"
    assert body["result"] == f"destination 127.0.0.1 {LOOPBACK}"
    assert httpserver.log == []


@guarded
def test_a_preset_created_in_the_console_with_a_private_url_is_warned(world, owner):
    response = owner.post(
        "/console/x/endpoints/presets/json_webhook/",
        {"name": "Internal hook", "url": "http://10.0.0.5/hook"},
        follow=True,
    )

    assert response.status_code == 200
    endpoint = Endpoint.objects.get(tenant=world.a, name="Internal hook")
    assert endpoint.url == "http://10.0.0.5/hook"
    shown = [str(m) for m in response.context["messages"]]
    assert any("private address" in m and "will be refused" in m for m in shown), shown


# ---- warnings when saved ---------------------------------------------------------------------


def _endpoint_payload(world, **overrides) -> dict:
    adaptor = Adaptor.objects.create(tenant=world.a, name="Warn adaptor")
    return {"name": "Warned", "url": "https://buyer.example.com/leads", "adaptor": adaptor.pk} | (
        overrides
    )


@guarded
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url: "),
        ({"url": "http://[::ffff:127.0.0.1]/leads"}, "loopback"),
        ({"url": "http://localhost:8000/leads"}, "local host name"),
        ({"url": "http://[::ffff:10.0.0.1]/leads"}, "private address"),
        ({"sandbox_url": "http://192.168.1.20/test"}, "sandbox_url: "),
    ],
)
def test_saving_a_non_public_url_through_the_api_answers_a_warning(world, overrides, expected):
    response = world.api_a.post("/api/v1/endpoints/", _endpoint_payload(world, **overrides), "json")

    assert response.status_code == 201, response.content
    warnings = response.json()["warnings"]
    assert any(expected in w and "will be refused" in w for w in warnings), warnings


@guarded
@pytest.mark.parametrize("url", ["http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/"])
def test_a_legacy_numeric_spelling_is_refused_or_warned_when_saved(world, url):
    response = world.api_a.post("/api/v1/endpoints/", _endpoint_payload(world, url=url), "json")

    if response.status_code == 400:
        assert "url" in response.json()
    else:
        assert response.status_code == 201
        assert any("loopback" in w for w in response.json()["warnings"])


def test_a_public_url_saves_without_a_warning(world):
    response = world.api_a.post("/api/v1/endpoints/", _endpoint_payload(world), "json")

    assert response.status_code == 201, response.content
    assert response.json()["warnings"] == []


@guarded
def test_saving_an_oauth2_token_url_on_the_metadata_address_answers_a_warning(world):
    payload = _endpoint_payload(
        world,
        auth={
            "type": "oauth2",
            "token_url": "http://169.254.169.254/latest/api/token",
            "client_id": "hub",
            "client_secret": "oauth-client-secret-value",
        },
    )

    response = world.api_a.post("/api/v1/endpoints/", payload, "json")

    assert response.status_code == 201, response.content
    warnings = response.json()["warnings"]
    assert any("169.254.169.254" in w for w in warnings), warnings


@guarded
def test_saving_a_private_url_in_the_console_shows_a_warning(world, owner):
    adaptor = AdaptorFactory(tenant=world.a)
    data = {
        "name": "Console internal",
        "category": "crm",
        "method": "POST",
        "url": "http://10.0.0.5/leads",
        "sandbox_url": "",
        "content_type": "json",
        "timeout_seconds": "30",
        "adaptor": str(adaptor.pk),
        "auth_type": "none",
        "response_format": "json",
        "success_op": "",
        "reject_reason_path": "",
        "priority": "100",
        "active": "on",
        "filters": "",
        "schedule": "",
        "_save": "Save",
    }

    response = owner.post("/console/endpoints/endpoint/add/", data, follow=True)

    assert Endpoint.objects.filter(tenant=world.a, name="Console internal").exists()
    shown = [str(m) for m in response.context["messages"]]
    assert any("10.0.0.5" in m and "will be refused" in m for m in shown), shown
