"""API routes of this app."""

from rest_framework.routers import SimpleRouter

from .views import InboundHandlerViewSet

router = SimpleRouter()
router.register("inbound-handlers", InboundHandlerViewSet)
urlpatterns = router.urls
