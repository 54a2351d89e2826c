"""Console pages beyond the ModelAdmin ones, under /console/x/logs/."""

from django.urls import path

from tenants.console import console_site

from . import console_views

urlpatterns = [
    path(
        "endpoints/<int:pk>/history/",
        console_site.admin_view(console_views.endpoint_history),
        name="logs-endpoint-history",
    ),
    path(
        "endpoints/<int:pk>/stats/",
        console_site.admin_view(console_views.endpoint_stats_page),
        name="logs-endpoint-stats",
    ),
    path(
        "handlers/<int:pk>/stats/",
        console_site.admin_view(console_views.handler_stats_page),
        name="logs-handler-stats",
    ),
]
