from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from endpoints.models import Endpoint
from leads.models import Lead
from leads.services import LeadInvalid, normalise
from logs.api.serializers import CallLogSerializer
from tenants.api.base import TenantReadOnlyViewSet

from .. import services
from ..engine import send_now
from ..filtersets import DeliveryFilterSet
from ..models import OPEN_STATUSES, Delivery
from .serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    EndpointTestSerializer,
)


class DeliveryViewSet(TenantReadOnlyViewSet):
    """Deliveries (read-only), plus the operator actions retry and cancel."""

    queryset = Delivery.objects.all()
    filterset_class = DeliveryFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("endpoint")

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    def _single(self, pk):
        return self.get_queryset().filter(pk=pk)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Send it again now: a final delivery becomes pending (with a fresh retry budget)."""
        delivery = self.get_object()
        services.retry(self._single(delivery.pk))
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery, context={"request": request}).data)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a pending or retrying delivery."""
        delivery = self.get_object()
        if delivery.status not in OPEN_STATUSES:
            raise serializers.ValidationError(
                {
                    "status": [
                        f"Only a pending or retrying delivery can be canceled; this one is {delivery.status}."
                    ]
                }
            )
        services.cancel(self._single(delivery.pk))
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery, context={"request": request}).data)


class EndpointTestView(APIView):
    """POST /endpoints/{id}/test/: send one real request now and answer its call log."""

    @extend_schema(request=EndpointTestSerializer, responses=CallLogSerializer)
    def post(self, request, pk: int):
        tenant = request.tenant
        endpoint = get_object_or_404(
            Endpoint.objects.for_tenant(tenant).select_related("adaptor"), pk=pk
        )
        body = EndpointTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lead = None
        fields = None
        if "lead" in data:
            lead = Lead.objects.for_tenant(tenant).filter(pk=data["lead"]).first()
            if lead is None:
                raise NotFound("No such lead.")
        else:
            try:
                fields = normalise(tenant.pk, data["fields"], partial=True)
            except LeadInvalid as exc:
                raise serializers.ValidationError({"fields": exc.errors}) from exc
        log = send_now(endpoint, lead=lead, fields=fields, sandbox=data.get("sandbox"))
        return Response(
            CallLogSerializer(log, context={"request": request}).data, status=status.HTTP_200_OK
        )
