"""API routes of this app."""

from rest_framework.routers import SimpleRouter

from .views import AdaptorViewSet

router = SimpleRouter()
router.register("adaptors", AdaptorViewSet)
urlpatterns = router.urls
