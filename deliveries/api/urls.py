"""API routes of this app."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import DeliveryViewSet, EndpointTestView

router = SimpleRouter()
router.register("deliveries", DeliveryViewSet)
urlpatterns = [
    path("endpoints/<int:pk>/test/", EndpointTestView.as_view(), name="endpoint-test"),
    *router.urls,
]
