"""Endpoint API: CRUD, presets and creation from a preset (tests and stats live elsewhere)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.base import TenantScopedViewSet

from .. import presets
from ..filtersets import EndpointFilterSet
from ..models import Endpoint
from ..services import create_from_preset
from .serializers import EndpointSerializer, FromPresetSerializer, PresetListSerializer


class EndpointViewSet(TenantScopedViewSet):
    """Outbound endpoints. Secrets are write-only; ``warnings`` flags private destinations."""

    queryset = Endpoint.objects.all()
    serializer_class = EndpointSerializer
    filterset_class = EndpointFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("adaptor").prefetch_related("campaigns")

    @extend_schema(request=FromPresetSerializer, responses={201: EndpointSerializer})
    @action(detail=False, methods=["post"], url_path="from-preset")
    def from_preset(self, request):
        """Create an adaptor and an endpoint from a preset in one transaction."""
        payload = FromPresetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            endpoint = create_from_preset(
                request,
                data["preset"],
                name=data.get("name", ""),
                url=data.get("url", ""),
                credentials=data.get("credentials") or {},
            )
        except presets.PresetError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        body = EndpointSerializer(endpoint, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class PresetListView(APIView):
    """The pre-built integrations ``POST /endpoints/from-preset/`` can create."""

    @extend_schema(responses=PresetListSerializer)
    def get(self, request):
        results = [presets.describe(p) for p in presets.PRESETS]
        return Response({"count": len(results), "next": None, "previous": None, "results": results})
