"""API routes of this app (``endpoints/<id>/test/`` and ``/stats/`` are served by other apps)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import EndpointViewSet, PresetListView

router = SimpleRouter()
router.register("endpoints", EndpointViewSet)
urlpatterns = [path("presets/", PresetListView.as_view(), name="presets"), *router.urls]
