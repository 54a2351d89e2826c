"""Fixtures for endpoint tests: endpoints pointing at a real local HTTP server, and a ``call``
fixture that runs each test through both transports (httpx sync and aiohttp async)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from endpoints.client import call_async, call_sync, new_async_session
from endpoints.models import Endpoint
from tests.factories import AdaptorFactory, TenantFactory

SAMPLE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550100",
    "state": "CA",
    "zip_code": "94105",
}


@pytest.fixture
def tenant(db):
    return TenantFactory()


@pytest.fixture
def make_endpoint(tenant):
    """An endpoint of ``tenant`` loaded like the engine loads it (adaptor preloaded)."""

    def make(url: str, *, mappings=None, adaptor=True, adaptor_kwargs=None, **fields):
        adaptor_obj = None
        if adaptor:
            kwargs = dict(adaptor_kwargs or {})
            if mappings is not None:
                kwargs["mappings"] = mappings
            adaptor_obj = AdaptorFactory(tenant=tenant, **kwargs)
        fields.setdefault("timeout_seconds", 5)
        fields.setdefault("name", "Buyer")
        endpoint = Endpoint.objects.create(tenant=tenant, url=url, adaptor=adaptor_obj, **fields)
        return Endpoint.objects.select_related("adaptor").get(pk=endpoint.pk)

    return make


def run_async(endpoint, fields, **kwargs):
    async def go():
        async with new_async_session() as session:
            return await call_async(session, endpoint, fields, **kwargs)

    return asyncio.run(go())


@pytest.fixture(params=["sync", "async"])
def call(request):
    """``call(endpoint, fields=SAMPLE, **kwargs)`` through call_sync or call_async."""

    def run(endpoint, fields=None, **kwargs):
        kwargs.setdefault("idempotency_key", "delivery-key-1")
        fields = SAMPLE if fields is None else fields
        if request.param == "sync":
            return call_sync(endpoint, fields, **kwargs)
        return run_async(endpoint, fields, **kwargs)

    run.mode = request.param
    return run


@pytest.fixture
def free_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
