from __future__ import annotations

from rest_framework import serializers

from logs.models import CallLog
from tenants.api.base import TenantScopedSerializer

from ..models import Delivery


class DeliverySerializer(TenantScopedSerializer):
    endpoint_name = serializers.CharField(source="endpoint.name", read_only=True)
    idempotency_key = serializers.CharField(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "lead",
            "endpoint",
            "endpoint_name",
            "status",
            "step",
            "attempts",
            "next_attempt_at",
            "last_error",
            "captured",
            "idempotency_key",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeliveryCallSerializer(serializers.ModelSerializer):
    """One attempt of a delivery, as listed on the delivery (the full row is a call log)."""

    status_code = serializers.SerializerMethodField()

    class Meta:
        model = CallLog
        fields = ["id", "attempt", "created_at", "outcome", "result", "status_code", "duration_ms"]

    def get_status_code(self, obj) -> int | None:
        return (obj.response or {}).get("status_code")


class DeliveryDetailSerializer(DeliverySerializer):
    call_logs = serializers.SerializerMethodField()

    class Meta(DeliverySerializer.Meta):
        fields = DeliverySerializer.Meta.fields + ["call_logs"]
        read_only_fields = fields

    def get_call_logs(self, obj) -> list[dict]:
        logs = CallLog.objects.filter(tenant_id=obj.tenant_id, delivery_id=obj.pk).order_by(
            "created_at", "id"
        )
        return DeliveryCallSerializer(logs, many=True).data


class EndpointTestSerializer(serializers.Serializer):
    """Body of POST /endpoints/{id}/test/: a lead id or sample field values."""

    lead = serializers.IntegerField(required=False, min_value=1)
    fields = serializers.DictField(child=serializers.JSONField(), required=False)
    sandbox = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, data):
        if ("lead" in data) == ("fields" in data):
            raise serializers.ValidationError(
                {"lead": ["Give either a lead id (lead) or sample values (fields), not both."]}
            )
        return data
