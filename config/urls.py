"""URL map: health, the REST API, its docs, the console, public hooks and request bins."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tenants.console import console_site
from tenants.views import healthz

API_APPS = ["tenants", "leads", "adaptors", "endpoints", "deliveries", "inbound", "logs", "sandbox"]

api_patterns = [path("", include(f"{app}.api.urls")) for app in API_APPS] + [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_patterns)),
    # Extra console pages (outside ModelAdmin) live under /console/<app>/… before the site.
    path("console/x/", include("config.console_urls")),
    path("console/", console_site.urls),
    path("admin/", admin.site.urls),
    path("", include("inbound.urls")),
    path("", include("sandbox.urls")),
]
