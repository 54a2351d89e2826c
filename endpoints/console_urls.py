"""Console pages beyond the ModelAdmin ones, mounted at /console/x/endpoints/."""

from django.urls import path

from tenants.console import console_site

from . import console_views

app_name = "endpoints-console"

urlpatterns = [
    path("<int:pk>/toggle/", console_site.admin_view(console_views.toggle_view), name="toggle"),
    path("presets/", console_site.admin_view(console_views.presets_view), name="presets"),
    path(
        "presets/<slug:key>/",
        console_site.admin_view(console_views.create_preset_view),
        name="create-from-preset",
    ),
]
