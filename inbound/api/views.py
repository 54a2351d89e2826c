from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from logs.api.serializers import InboundCallSerializer
from logs.models import InboundCall
from tenants.api.base import TenantScopedViewSet

from ..filtersets import InboundCallFilterSet, InboundHandlerFilterSet
from ..models import InboundHandler
from ..spec import build_spec
from .serializers import InboundHandlerSerializer


class InboundHandlerViewSet(TenantScopedViewSet):
    """Inbound handlers, their calls and their posting instructions."""

    queryset = InboundHandler.objects.all()
    serializer_class = InboundHandlerSerializer
    filterset_class = InboundHandlerFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("campaign")

    def filter_queryset(self, queryset):
        # The calls action has filters of its own (method, status) that are not handler filters.
        if self.action in ("calls", "spec"):
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="default: 7 days ago"),
            OpenApiParameter("timeframe", str, enum=["1h", "24h", "7d", "30d"]),
            OpenApiParameter("method", str, enum=["GET", "POST"]),
            OpenApiParameter("status", str, enum=["success", "duplicate", "ignored", "error"]),
        ],
        responses=InboundCallSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def calls(self, request, pk=None):
        """The handler's calls, newest first (last 7 days unless ``since``/``timeframe``)."""
        handler = self.get_object()
        filterset = InboundCallFilterSet(
            request.query_params,
            queryset=InboundCall.objects.for_tenant(request.tenant).filter(handler=handler),
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        # The same shape as /api/v1/inbound-calls/ (the logs app owns how a call is shown).
        data = InboundCallSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def spec(self, request, pk=None):
        """Posting instructions: URL, method, parameters, signing, examples."""
        return Response(build_spec(self.get_object(), request))
