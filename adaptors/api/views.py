"""Adaptor API: CRUD plus previews of the request an adaptor builds."""

from __future__ import annotations

import logging

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from tenants.api.base import TenantScopedViewSet

from ..errors import RenderError
from ..filtersets import AdaptorFilterSet
from ..models import Adaptor
from ..preview import preview
from ..validation import SAMPLE_FIELDS
from .serializers import (
    AdaptorSerializer,
    PreviewDraftSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
)

logger = logging.getLogger("hub.adaptors")


class TenantMember(BasePermission):
    """Any role of the tenant: a preview changes nothing, so viewers may use it too."""

    def has_permission(self, request, view) -> bool:
        return getattr(request._request, "tenant", None) is not None


class AdaptorInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "in_use"


class AdaptorViewSet(TenantScopedViewSet):
    """Adaptors: field mappings, constants and an optional body template."""

    queryset = Adaptor.objects.all()
    serializer_class = AdaptorSerializer
    filterset_class = AdaptorFilterSet

    def get_queryset(self):
        # Aggregation drops Meta.ordering; pagination needs a stable order.
        queryset = super().get_queryset().annotate(endpoint_count=Count("endpoints"))
        return queryset.order_by("name", "id")

    def perform_destroy(self, instance):
        names = list(instance.endpoints.values_list("name", flat=True)[:5])
        if names:
            raise AdaptorInUse(
                f"This adaptor is used by {instance.endpoints.count()} endpoint(s) "
                f"({', '.join(names)}); give them another adaptor first."
            )
        super().perform_destroy(instance)

    def _preview(self, request, adaptor, serializer) -> Response:
        data = serializer.validated_data
        lead = data.get("lead")
        fields = lead.fields if lead is not None else data.get("fields", SAMPLE_FIELDS)
        try:
            result = preview(
                adaptor,
                fields,
                content_type=data["content_type"],
                method=data["method"],
                lead_id=lead.pk if lead is not None else None,
            )
        except RenderError as exc:
            logger.info("adaptor preview refused: %s", exc)
            raise exceptions.ValidationError({exc.field or "non_field_errors": [str(exc)]}) from exc
        return Response(result)

    @extend_schema(request=PreviewSerializer, responses=PreviewResultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[TenantMember])
    def preview(self, request, pk=None):
        """The request this adaptor builds for ``fields`` or a ``lead`` (no request is sent)."""
        adaptor = self.get_object()
        serializer = PreviewSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return self._preview(request, adaptor, serializer)

    @extend_schema(
        operation_id="adaptors_preview_draft",
        request=PreviewDraftSerializer,
        responses=PreviewResultSerializer,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="preview",
        url_name="preview-draft",
        permission_classes=[TenantMember],
    )
    def preview_draft(self, request):
        """The request unsaved adaptor settings (``adaptor``) would build: the console's preview."""
        serializer = PreviewDraftSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        draft = serializer.validated_data.get("adaptor")
        adaptor = Adaptor(tenant=request.tenant, **draft) if draft is not None else None
        return self._preview(request, adaptor, serializer)
