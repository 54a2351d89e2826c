from rest_framework.routers import SimpleRouter

from .views import CampaignViewSet, LeadFieldViewSet, LeadViewSet

router = SimpleRouter()
router.register("lead-fields", LeadFieldViewSet)
router.register("campaigns", CampaignViewSet)
router.register("leads", LeadViewSet)
urlpatterns = router.urls
