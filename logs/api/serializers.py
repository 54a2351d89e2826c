"""Read-only shapes of call logs and inbound calls; requests and headers masked on the way out."""

from __future__ import annotations

from rest_framework import serializers

from tenants.api.base import TenantScopedSerializer
from tenants.redaction import redact_headers

from ..models import CallLog, InboundCall
from ..redact import SecretScrubber, safe_body, safe_mapping, safe_request, safe_response


def _scrubber(context) -> SecretScrubber | None:
    return context.get("scrub")


class CallLogSerializer(TenantScopedSerializer):
    """One outbound attempt. ``request``/``response`` are as sent and received, secrets masked."""

    endpoint_name = serializers.SerializerMethodField()
    request = serializers.SerializerMethodField()
    response = serializers.SerializerMethodField()

    class Meta:
        model = CallLog
        fields = [
            "id",
            "created_at",
            "endpoint",
            "endpoint_name",
            "lead",
            "delivery",
            "attempt",
            "phone",
            "request",
            "response",
            "outcome",
            "result",
            "duration_ms",
            "test",
        ]
        read_only_fields = fields

    def get_endpoint_name(self, obj: CallLog) -> str | None:
        return obj.endpoint.name if obj.endpoint_id and obj.endpoint else None

    def get_request(self, obj: CallLog) -> dict:
        return safe_request(obj.request, _scrubber(self.context))

    def get_response(self, obj: CallLog) -> dict:
        return safe_response(obj.response, _scrubber(self.context))


class InboundCallSerializer(TenantScopedSerializer):
    """One request to a hook URL: what arrived (headers masked) and what was answered."""

    handler_name = serializers.CharField(source="handler.name", read_only=True)
    headers = serializers.SerializerMethodField()
    query = serializers.SerializerMethodField()
    raw_body = serializers.SerializerMethodField()
    parsed = serializers.SerializerMethodField()

    class Meta:
        model = InboundCall
        fields = [
            "id",
            "created_at",
            "handler",
            "handler_name",
            "method",
            "client_ip",
            "content_type",
            "query",
            "headers",
            "raw_body",
            "parsed",
            "status",
            "response_status",
            "response_content_type",
            "response_body",
            "error",
            "lead",
        ]
        read_only_fields = fields

    def get_headers(self, obj: InboundCall) -> dict:
        return redact_headers(obj.headers or {})

    def get_query(self, obj: InboundCall) -> str:
        return safe_body(obj.query)

    def get_raw_body(self, obj: InboundCall) -> str:
        return safe_body(obj.raw_body)

    def get_parsed(self, obj: InboundCall) -> dict:
        return safe_mapping(obj.parsed or {})
