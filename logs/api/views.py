"""Call logs and inbound calls (read-only lists, CSV export) and the stats of endpoints and handlers."""

from __future__ import annotations

from django.apps import apps
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.base import TenantReadOnlyViewSet

from ..export import iter_csv
from ..filtersets import CallLogFilterSet, InboundCallFilterSet
from ..models import CallLog, InboundCall
from ..paging import LogPagination
from ..queries import call_logs_with_endpoint, inbound_calls_with_handler
from ..redact import SecretScrubber, tenant_secret_values
from ..stats import PeriodError, endpoint_stats, handler_stats, parse_period
from ..zones import tenant_zone
from .serializers import CallLogSerializer, InboundCallSerializer


class CallLogViewSet(TenantReadOnlyViewSet):
    """One row per outbound attempt, newest first; filters as in CallLogFilterSet."""

    queryset = CallLog.objects.all()
    serializer_class = CallLogSerializer
    filterset_class = CallLogFilterSet
    pagination_class = LogPagination

    def get_queryset(self):
        return call_logs_with_endpoint(super().get_queryset())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["scrub"] = SecretScrubber(
            tenant_secret_values(getattr(self.request, "tenant", None))
        )
        return context


class InboundCallViewSet(TenantReadOnlyViewSet):
    """One row per request to a hook URL, newest first; filters as in InboundCallFilterSet."""

    queryset = InboundCall.objects.all()
    serializer_class = InboundCallSerializer
    filterset_class = InboundCallFilterSet
    pagination_class = LogPagination

    def get_queryset(self):
        return inbound_calls_with_handler(super().get_queryset())


class AlwaysJSON(BaseContentNegotiation):
    """The export answers CSV itself; errors are JSON whatever the client's Accept says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CallLogExportView(generics.GenericAPIView):
    """``GET /call-logs/export.csv``: the filtered call logs as CSV, streamed."""

    queryset = CallLog.objects.all()
    filterset_class = CallLogFilterSet
    content_negotiation_class = AlwaysJSON
    pagination_class = None

    def get_queryset(self):
        return CallLog.objects.for_tenant(getattr(self.request, "tenant", None))

    @extend_schema(
        summary="Export call logs as CSV",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, *args, **kwargs):
        tenant = request.tenant
        rows = self.filter_queryset(self.get_queryset())
        Endpoint = apps.get_model("endpoints", "Endpoint")
        names = dict(Endpoint.objects.for_tenant(tenant).values_list("id", "name"))
        stream = iter_csv(
            rows,
            endpoint_names=names,
            zone=tenant_zone(tenant),
            scrub=SecretScrubber(tenant_secret_values(tenant)),
        )
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="call-logs-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response


def _period(request):
    try:
        return parse_period(
            request.query_params.get("since"),
            request.query_params.get("until"),
            tenant_zone(request.tenant),
        )
    except PeriodError as exc:
        raise serializers.ValidationError({exc.field: [exc.message]}) from exc


_PERIOD_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="First day; default 6 days ago."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Last day, included; default today."),
]


class EndpointStatsView(APIView):
    """``GET /endpoints/{id}/stats/?since=&until=``: totals, rates, avg and p95, per day."""

    @extend_schema(parameters=_PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        Endpoint = apps.get_model("endpoints", "Endpoint")
        endpoint = get_object_or_404(Endpoint.objects.for_tenant(request.tenant), pk=pk)
        return Response(endpoint_stats(request.tenant, endpoint, _period(request)))


class HandlerStatsView(APIView):
    """``GET /inbound-handlers/{id}/stats/?since=&until=``: counts and rates per status, per day."""

    @extend_schema(parameters=_PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        Handler = apps.get_model("inbound", "InboundHandler")
        handler = get_object_or_404(Handler.objects.for_tenant(request.tenant), pk=pk)
        return Response(handler_stats(request.tenant, handler, _period(request)))
