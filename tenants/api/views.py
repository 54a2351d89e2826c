from rest_framework import mixins, viewsets
from rest_framework.response import Response

from .. import audit
from ..models import ApiKey
from .base import TenantScopedSerializer


class ApiKeySerializer(TenantScopedSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "role", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """API keys: the raw key is answered once, on creation; DELETE revokes."""

    queryset = ApiKey.objects.all()
    serializer_class = ApiKeySerializer

    def get_queryset(self):
        return ApiKey.objects.for_tenant(self.request.tenant)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = ApiKey.issue(
            request.tenant,
            serializer.validated_data["name"],
            serializer.validated_data.get("role", "admin"),
        )
        audit.record(request, "create", key)
        return Response({**ApiKeySerializer(key).data, "key": raw}, status=201)

    def perform_destroy(self, instance):
        from django.utils import timezone

        before = audit.snapshot(instance)
        instance.revoked_at = instance.revoked_at or timezone.now()
        instance.save(update_fields=["revoked_at"])
        audit.record(self.request, "update", instance, before)
