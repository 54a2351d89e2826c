"""Helpers for the delivery tests: deliveries in a chosen state, claims."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deliveries.models import Delivery
from tests.factories import DeliveryFactory, EndpointFactory, LeadFactory


def endpoint_for(tenant, url: str, **kwargs):
    return EndpointFactory(tenant=tenant, url=url, **kwargs)


def delivery_for(endpoint, *, due_in: float = 0, **kwargs) -> Delivery:
    """A delivery of a fresh lead to ``endpoint``, due ``due_in`` seconds from now."""
    lead = kwargs.pop("lead", None) or LeadFactory(tenant=endpoint.tenant)
    return DeliveryFactory(
        tenant=endpoint.tenant,
        lead=lead,
        endpoint=endpoint,
        next_attempt_at=timezone.now() + timedelta(seconds=due_in),
        **kwargs,
    )


def eventually(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll ``predicate`` until it is truthy; answer its value or fail after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
