"""API routes of this app: call logs (+ CSV export), inbound calls, endpoint and handler stats."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    CallLogExportView,
    CallLogViewSet,
    EndpointStatsView,
    HandlerStatsView,
    InboundCallViewSet,
)

router = SimpleRouter()
router.register("call-logs", CallLogViewSet)
router.register("inbound-calls", InboundCallViewSet)

urlpatterns = [
    path("call-logs/export.csv", CallLogExportView.as_view(), name="calllog-export"),
    path("endpoints/<int:pk>/stats/", EndpointStatsView.as_view(), name="endpoint-stats"),
    path("inbound-handlers/<int:pk>/stats/", HandlerStatsView.as_view(), name="handler-stats"),
    *router.urls,
]
