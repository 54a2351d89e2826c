"""Schemathesis against the live OpenAPI schema: no operation answers a 5xx, whatever it is sent.

The schema is read from ``/api/v1/schema/`` through the WSGI app, in-process, and every
operation is called with data generated from it (valid and invalid) with tenant A's admin key.
Half of the generated ids are swapped for ids of real objects of tenant A, so the fuzzing reaches
past the 404 into the views. Bounded: a few examples per operation, derandomized; ``make
fuzz-api`` runs the same test with more examples (``HUB_FUZZ_EXAMPLES``).

No request leaves the machine: every destination is refused and names never resolve, so a
fuzzed endpoint URL tested or delivered to ends as an ``error`` call log.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from endpoints import ssrf
from leads.models import LeadField
from logs.models import InboundCall
from tests.factories import (
    AdaptorFactory,
    CallLogFactory,
    CampaignFactory,
    DeliveryFactory,
    EndpointFactory,
    InboundHandlerFactory,
    LeadFactory,
    RequestBinFactory,
    api_key,
)

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "5"))


_loaded: list = []  # the schema, read once per process (generating it takes a while)


@pytest.fixture
def wsgi_requests(db):
    """Like Django's test client: a request must not close the connection that holds the
    test's transaction (the WSGI handler closes it when a request ends, CONN_MAX_AGE being 0)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_requests):
    if not _loaded:
        _loaded.append(
            schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
        )
    return _loaded[0]


@pytest.fixture
def no_outbound(monkeypatch, fake_dns):
    """Every destination refused (no request leaves the machine, whatever URL was fuzzed)."""
    ssrf._literal_reason.cache_clear()
    monkeypatch.setattr(ssrf, "classify", lambda ip: "refused while fuzzing")
    with override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=False):
        yield
    ssrf._literal_reason.cache_clear()


@pytest.fixture
def fuzz_world(world, no_outbound):
    """Tenant A's key and one real object per resource (for the ids swapped in)."""
    tenant = world.a
    endpoint = EndpointFactory(tenant=tenant, url="http://192.0.2.10/leads")
    handler = InboundHandlerFactory(tenant=tenant, campaign=CampaignFactory(tenant=tenant))
    lead = LeadFactory(tenant=tenant)
    ids = {
        "adaptors": AdaptorFactory(tenant=tenant).pk,
        "api-keys": api_key_object(tenant),
        "call-logs": CallLogFactory(tenant=tenant, endpoint=endpoint, lead=lead).pk,
        "campaigns": CampaignFactory(tenant=tenant).pk,
        "deliveries": DeliveryFactory(tenant=tenant, endpoint=endpoint, lead=lead).pk,
        "endpoints": endpoint.pk,
        "inbound-calls": InboundCall.objects.create(
            tenant=tenant, handler=handler, method="POST", status="accepted", raw_body="{}"
        ).pk,
        "inbound-handlers": handler.pk,
        "lead-fields": LeadField.objects.create(tenant=tenant, name="fuzz_field").pk,
        "leads": lead.pk,
        "request-bins": RequestBinFactory(tenant=tenant).pk,
    }
    return {"Authorization": f"Bearer {api_key(tenant)}"}, ids


def api_key_object(tenant) -> int:
    """A key that fuzzed DELETEs may revoke (not the one the fuzzer authenticates with)."""
    from tenants.models import ApiKey

    return ApiKey.issue(tenant, "fuzz target")[0].pk


def _ground(case, ids: dict[str, int]) -> None:
    """Swap an even generated id for the id of a real object of the same resource."""
    generated = (case.path_parameters or {}).get("id")
    if not isinstance(generated, int) or generated % 2:
        return
    resource = case.path.removeprefix("/api/v1/").split("/", 1)[0]
    if resource in ids:
        case.path_parameters["id"] = ids[resource]


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation the schema documents (read without any request)."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    verbs = ("get", "post", "put", "patch", "delete")
    return [(m.upper(), path) for path, ops in paths.items() for m in ops if m in verbs]


def _strategy(operation):
    """Cases that follow the schema and cases that break it."""
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


OPERATIONS = _operations()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_a_server_error(api_schema, fuzz_world, method, path):
    headers, ids = fuzz_world
    operation = api_schema[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation))
    def call(case):
        _ground(case, ids)
        response = case.call(headers=headers)
        seen.append(response.status_code)
        assert response.status_code < 500, f"{response.status_code}\n{case.as_curl_command()}"

    seen: list[int] = []
    call()
    # The key was accepted (a fuzzer locked out at 401 would pass without testing anything).
    assert set(seen) - {401, 403}, seen
