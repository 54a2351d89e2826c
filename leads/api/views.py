from tenants.api.base import TenantScopedViewSet

from ..filtersets import LeadFilterSet
from ..models import Campaign, Lead, LeadField
from ..services import forget_catalogue
from .serializers import (
    CampaignSerializer,
    LeadDetailSerializer,
    LeadFieldSerializer,
    LeadSerializer,
)


class LeadFieldViewSet(TenantScopedViewSet):
    queryset = LeadField.objects.all()
    serializer_class = LeadFieldSerializer

    def perform_create(self, serializer):
        super().perform_create(serializer)
        forget_catalogue(self.request.tenant.pk)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        forget_catalogue(self.request.tenant.pk)

    def perform_destroy(self, instance):
        super().perform_destroy(instance)
        forget_catalogue(self.request.tenant.pk)


class CampaignViewSet(TenantScopedViewSet):
    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer


class LeadViewSet(TenantScopedViewSet):
    queryset = Lead.objects.all()
    filterset_class = LeadFilterSet
    audited = False
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return LeadDetailSerializer if self.action == "retrieve" else LeadSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related("deliveries__endpoint")
        return qs
