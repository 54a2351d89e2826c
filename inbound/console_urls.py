"""Console pages beyond the ModelAdmin ones (mounted at /console/x/inbound/)."""

from django.urls import path

from .console_views import call_detail_view, calls_view, instructions_view

urlpatterns = [
    path("handlers/<int:pk>/calls/", calls_view, name="inbound-console-calls"),
    path(
        "handlers/<int:pk>/calls/<int:call_id>/",
        call_detail_view,
        name="inbound-console-call",
    ),
    path(
        "handlers/<int:pk>/instructions/",
        instructions_view,
        name="inbound-console-instructions",
    ),
]
