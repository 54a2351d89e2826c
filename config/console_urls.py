"""Console pages that are not plain ModelAdmin pages, one include per app."""

from django.urls import include, path

urlpatterns = [
    path("endpoints/", include("endpoints.console_urls")),
    path("deliveries/", include("deliveries.console_urls")),
    path("inbound/", include("inbound.console_urls")),
    path("logs/", include("logs.console_urls")),
]
