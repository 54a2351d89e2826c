"""The one tenant-scoped serializer and viewset every resource of the API builds on."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from .. import audit
from ..models import TenantOwned


def scope_related_fields(serializer: serializers.Serializer, tenant) -> None:
    """Limit every related-object field to ``tenant``'s rows, so foreign ids are 'not found'."""
    for field in serializer.fields.values():
        target = getattr(field, "child_relation", field)
        queryset = getattr(target, "queryset", None)
        if queryset is not None and issubclass(queryset.model, TenantOwned):
            target.queryset = queryset.model.objects.for_tenant(tenant)


class TenantScopedSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose related fields only see the request's tenant."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        scope_related_fields(self, getattr(request, "tenant", None) if request else None)

    @property
    def tenant(self):
        request = self.context.get("request")
        return getattr(request, "tenant", None) if request else None


class TenantScopedViewSet(viewsets.ModelViewSet):
    """CRUD on one tenant's rows; other tenants' rows do not exist (404). Writes are audited."""

    audited = True

    def get_queryset(self):
        return self.queryset.model.objects.for_tenant(getattr(self.request, "tenant", None)).all()

    def perform_create(self, serializer):
        obj = serializer.save(tenant=self.request.tenant)
        if self.audited:
            audit.record(self.request, "create", obj)

    def perform_update(self, serializer):
        before = audit.snapshot(serializer.instance) if self.audited else None
        obj = serializer.save()
        if self.audited:
            audit.record(self.request, "update", obj, before)

    def perform_destroy(self, instance):
        if self.audited:
            audit.record(self.request, "delete", instance, audit.snapshot(instance))
        instance.delete()


class TenantReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """List and detail of one tenant's rows."""

    def get_queryset(self):
        return self.queryset.model.objects.for_tenant(getattr(self.request, "tenant", None)).all()
