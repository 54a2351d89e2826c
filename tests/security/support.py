"""Helpers of the cross-app security tests."""

from __future__ import annotations

from django.apps import apps

from tenants.models import TenantOwned


def tenant_state(tenant) -> dict[str, list[dict]]:
    """Every row the tenant owns, in every tenant-owned table: what "nothing changed" means."""
    state = {}
    for model in apps.get_models():
        if issubclass(model, TenantOwned):
            rows = model.objects.filter(tenant=tenant).order_by("pk").values()
            state[model._meta.label] = [dict(r) for r in rows]
    return state
