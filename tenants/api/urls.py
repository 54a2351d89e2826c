from rest_framework.routers import SimpleRouter

from .views import ApiKeyViewSet

router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet)
urlpatterns = router.urls
