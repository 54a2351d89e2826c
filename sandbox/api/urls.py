"""API routes of this app."""

from rest_framework.routers import SimpleRouter

from .views import RequestBinViewSet

router = SimpleRouter()
router.register("request-bins", RequestBinViewSet)
urlpatterns = router.urls
