"""Hostile query strings: filter values that parse but that PostgreSQL cannot take."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import transaction

from tests.factories import EndpointFactory, InboundHandlerFactory, RequestBinFactory

# Valid ISO 8601 that PostgreSQL cannot take as it is: an offset beyond ±15:59, or a moment
# whose UTC value leaves the year range 1–9999.
HOSTILE_MOMENTS = [
    "0892-03-30T05:26:51+18:38",
    "2026-01-01T00:00:00-23:59",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
]


def _moment_queries(world) -> list[str]:
    endpoint = EndpointFactory(tenant=world.a)
    handler = InboundHandlerFactory(tenant=world.a)
    bin_ = RequestBinFactory(tenant=world.a)
    return [
        "/api/v1/leads/?created_after={0}&created_before={0}",
        "/api/v1/call-logs/?created_after={0}&created_before={0}",
        "/api/v1/call-logs/export.csv?created_after={0}",
        "/api/v1/inbound-calls/?created_after={0}&created_before={0}",
        "/api/v1/deliveries/?created_after={0}&created_before={0}",
        f"/api/v1/inbound-handlers/{handler.pk}/calls/?since={{0}}",
        f"/api/v1/request-bins/{bin_.pk}/requests/?since={{0}}&until={{0}}",
        f"/api/v1/endpoints/{endpoint.pk}/stats/?since={{0}}&until={{0}}",
        f"/api/v1/inbound-handlers/{handler.pk}/stats/?since={{0}}&until={{0}}",
    ]


@pytest.mark.parametrize("moment", HOSTILE_MOMENTS)
def test_a_date_filter_postgresql_cannot_take_is_a_400_not_a_500(world, moment):
    world.api_a.raise_request_exception = False
    answers = {}
    for template in _moment_queries(world):
        url = template.format(quote(moment))
        savepoint = transaction.savepoint()  # a failed query must not abort the next ones
        answers[url] = world.api_a.get(url).status_code
        transaction.savepoint_rollback(savepoint)

    assert {url: code for url, code in answers.items() if code >= 500} == {}
