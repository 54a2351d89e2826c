from __future__ import annotations

from rest_framework import serializers

from tenants.api.base import TenantScopedSerializer

from ..models import BinRequest, RequestBin


class RequestBinSerializer(TenantScopedSerializer):
    url = serializers.SerializerMethodField(help_text="Public URL: point a sandbox URL at it.")
    request_count = serializers.IntegerField(read_only=True, default=0)
    last_request_at = serializers.DateTimeField(read_only=True, default=None)

    class Meta:
        model = RequestBin
        fields = [
            "id",
            "name",
            "token",
            "url",
            "response_status",
            "response_content_type",
            "response_body",
            "request_count",
            "last_request_at",
            "created_at",
        ]
        read_only_fields = ["token", "created_at"]

    def get_url(self, obj: RequestBin) -> str:
        return obj.absolute_url(self.context.get("request"))


class BinRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = BinRequest
        fields = [
            "id",
            "bin",
            "created_at",
            "method",
            "path",
            "query",
            "headers",
            "body",
            "remote_addr",
        ]
        read_only_fields = fields
