from __future__ import annotations

from django.db.models import Count, Max
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404

from tenants.api.base import TenantScopedViewSet

from ..filtersets import BinRequestFilterSet, RequestBinFilterSet
from ..models import BinRequest, RequestBin
from .serializers import BinRequestSerializer, RequestBinSerializer


class RequestBinViewSet(TenantScopedViewSet):
    """Request bins; ``/{id}/requests/`` lists what a bin received, newest first."""

    queryset = RequestBin.objects.all()
    serializer_class = RequestBinSerializer
    filterset_class = RequestBinFilterSet

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .annotate(request_count=Count("requests"), last_request_at=Max("requests__created_at"))
            .order_by("name", "id")
        )

    @extend_schema(
        responses=BinRequestSerializer(many=True),
        parameters=[
            OpenApiParameter("since", str, description="ISO date-time, inclusive"),
            OpenApiParameter("until", str, description="ISO date-time, exclusive"),
            OpenApiParameter("method", str),
            OpenApiParameter("q", str, description="text in the body or path"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def requests(self, request, pk=None):
        """The requests this bin received, newest first (filters: since, until, method, q)."""
        bin = get_object_or_404(RequestBin.objects.for_tenant(request.tenant), pk=pk)
        filterset = BinRequestFilterSet(
            request.query_params,
            queryset=BinRequest.objects.for_tenant(request.tenant).filter(bin=bin).order_by("-id"),
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(BinRequestSerializer(page, many=True).data)
