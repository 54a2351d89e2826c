from __future__ import annotations

from rest_framework import serializers

from tenants.api.base import TenantScopedSerializer

from ..models import Campaign, Lead, LeadField
from ..services import LeadInvalid, store_lead


class LeadFieldSerializer(TenantScopedSerializer):
    class Meta:
        model = LeadField
        fields = ["id", "name", "label", "type", "required", "standard"]
        read_only_fields = ["standard"]

    def validate_name(self, value: str) -> str:
        qs = LeadField.objects.for_tenant(self.tenant).filter(name=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("A lead field with this name already exists.")
        return value


class CampaignSerializer(TenantScopedSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "distribution", "active", "created_at"]


class LeadSerializer(TenantScopedSerializer):
    fields = serializers.DictField(child=serializers.JSONField(), allow_empty=True)

    class Meta:
        model = Lead
        fields = ["id", "campaign", "fields", "status", "status_reason", "created_at", "updated_at"]
        read_only_fields = ["status", "status_reason", "created_at", "updated_at"]

    def create(self, validated_data):
        try:
            return store_lead(
                validated_data["tenant"], validated_data.get("campaign"), validated_data["fields"]
            )
        except LeadInvalid as exc:
            raise serializers.ValidationError({"fields": exc.errors}) from exc

    def update(self, instance, validated_data):
        try:
            return store_lead(
                instance.tenant_id,
                validated_data.get("campaign"),
                validated_data.get("fields", {}),
                lead=instance,
                distribute=False,
            )
        except LeadInvalid as exc:
            raise serializers.ValidationError({"fields": exc.errors}) from exc


class LeadDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.IntegerField(source="endpoint_id")
    endpoint_name = serializers.CharField(source="endpoint.name")
    status = serializers.CharField()
    step = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    captured = serializers.JSONField()


class LeadDetailSerializer(LeadSerializer):
    deliveries = LeadDeliverySerializer(many=True, read_only=True)
    routing = serializers.JSONField(read_only=True)

    class Meta(LeadSerializer.Meta):
        fields = LeadSerializer.Meta.fields + ["deliveries", "routing"]
