"""Storing leads: normalise against the tenant's field catalogue, save, announce for routing."""

from __future__ import annotations

import time
from collections.abc import Mapping

from django.core.cache import cache
from django.db import transaction

from tenants.models import Tenant

from .models import STANDARD_FIELDS, Campaign, Lead, LeadField
from .normalize import missing_required, normalize_fields
from .signals import lead_stored

_CATALOGUE_TTL = 30


class LeadInvalid(ValueError):
    """Raised with DRF-shaped ``errors`` when lead values do not normalise."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def ensure_standard_fields(tenant: Tenant) -> None:
    """Give ``tenant`` the standard lead fields it does not have yet."""
    existing = set(LeadField.objects.for_tenant(tenant).values_list("name", flat=True))
    LeadField.objects.bulk_create(
        [
            LeadField(tenant=tenant, name=name, label=label, type=ftype, standard=True)
            for name, label, ftype in STANDARD_FIELDS
            if name not in existing
        ]
    )
    forget_catalogue(tenant.pk)


def _catalogue_key(tenant_id: int) -> str:
    return f"lead-fields:{tenant_id}"


# In front of the shared cache, a per-process copy for a few seconds: the catalogue is read
# for every lead on the inbound hot path.
_LOCAL_TTL = 5.0
_local: dict[int, tuple[float, tuple[dict[str, str], list[str]]]] = {}


def forget_catalogue(tenant_id: int) -> None:
    _local.pop(tenant_id, None)
    cache.delete(_catalogue_key(tenant_id))


def catalogue(tenant_id: int) -> tuple[dict[str, str], frozenset[str]]:
    """``(types by name, required names)`` of a tenant's fields, cached briefly.

    A change made in another process is seen within ``_LOCAL_TTL`` seconds.
    """
    now = time.monotonic()
    hit = _local.get(tenant_id)
    if hit is not None and hit[0] > now:
        cached = hit[1]
    else:
        key = _catalogue_key(tenant_id)
        cached = cache.get(key)
        if cached is None:
            rows = LeadField.objects.filter(tenant_id=tenant_id).values_list(
                "name", "type", "required"
            )
            types = {name: ftype for name, ftype, _ in rows}
            required = [name for name, _, req in rows if req]
            cached = (types, required)
            cache.set(key, cached, _CATALOGUE_TTL)
        _local[tenant_id] = (now + _LOCAL_TTL, cached)
    return cached[0], frozenset(cached[1])


def normalise(tenant_id: int, values: Mapping, *, partial: bool = False) -> dict:
    """Normalised copy of ``values``; raises LeadInvalid naming each bad field."""
    types, required = catalogue(tenant_id)
    clean, errors = normalize_fields(values, types, frozenset() if partial else required)
    if errors:
        raise LeadInvalid(errors)
    return clean


def require(tenant_id: int, clean: Mapping) -> None:
    """Raise LeadInvalid naming each required field of the tenant missing from ``clean``
    (values already normalised), worded as ``normalise`` words it."""
    _types, required = catalogue(tenant_id)
    missing = missing_required(clean, required)
    if missing:
        raise LeadInvalid(missing)


def store_lead(
    tenant: Tenant | int,
    campaign: Campaign | None,
    values: Mapping,
    *,
    distribute: bool = True,
    only_endpoints: list[int] | None = None,
    lead: Lead | None = None,
) -> Lead:
    """Normalise and save a lead (new, or ``lead`` updated), then announce it for routing.

    Runs in one transaction with whatever routing writes, so callers answer 2xx only after
    the lead and its deliveries are committed.
    """
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    clean = normalise(tenant_id, values, partial=lead is not None)
    # savepoint=False: inside a caller's transaction a savepoint costs two round trips and
    # buys nothing, since any failure here aborts the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        if lead is None:
            lead = Lead(tenant_id=tenant_id, campaign=campaign, fields=clean)
        else:
            lead.fields = {**lead.fields, **clean}
            if campaign is not None:
                lead.campaign = campaign
        lead.sync_indexed()
        lead.save()
        lead_stored.send(
            sender=Lead, lead=lead, distribute=distribute, only_endpoints=only_endpoints
        )
    return lead
