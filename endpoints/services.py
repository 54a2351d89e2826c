"""Endpoint operations shared by the API and the console."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from adaptors.models import Adaptor
from tenants import audit

from . import presets
from .models import Endpoint


def create_from_preset(
    request, key: str, *, name: str = "", url: str = "", credentials: Mapping[str, str]
) -> Endpoint:
    """Create the adaptor and endpoint of preset ``key`` for ``request.tenant``, both audited.

    One transaction: nothing is left behind when validation fails. Raises PresetError with
    DRF-shaped errors (credentials, url, or any endpoint field).
    """
    from .api.serializers import EndpointSerializer

    adaptor_fields, payload = presets.build(key, credentials, url)
    preset = presets.BY_KEY[key]
    title = (name or "").strip() or preset.name
    with transaction.atomic():
        adaptor = Adaptor.objects.create(
            tenant=request.tenant, name=f"{title} adaptor"[:200], **adaptor_fields
        )
        serializer = EndpointSerializer(
            data={**payload, "name": title, "adaptor": adaptor.pk}, context={"request": request}
        )
        if not serializer.is_valid():
            transaction.set_rollback(True)
            raise presets.PresetError(serializer.errors)
        endpoint = serializer.save(tenant=request.tenant)
        audit.record(request, "create", adaptor)
        audit.record(request, "create", endpoint)
    return endpoint


def toggle_active(request, endpoint: Endpoint) -> Endpoint:
    """Flip ``endpoint.active`` (audited)."""
    before = audit.snapshot(endpoint)
    endpoint.active = not endpoint.active
    endpoint.save(update_fields=["active", "updated_at"])
    audit.record(request, "update", endpoint, before)
    return endpoint
