from __future__ import annotations

from rest_framework import serializers

from tenants.api.base import TenantScopedSerializer

from .. import config
from ..models import InboundHandler


def _field_error(field: str, exc: config.ConfigError) -> serializers.ValidationError:
    return serializers.ValidationError({field: [str(exc)]})


class InboundHandlerSerializer(TenantScopedSerializer):
    """A handler; ``secret`` is write-only (``has_secret`` says whether one is set; send ``""``
    to remove it), ``url`` is the absolute public URL. Saving a ``json_template`` without
    ``parameters`` generates the parameters from the sample."""

    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=300, trim_whitespace=True
    )
    has_secret = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    parameters = serializers.JSONField(required=False)
    mappings = serializers.JSONField(required=False)
    conditions = serializers.JSONField(required=False, allow_null=True)
    response = serializers.JSONField(required=False)
    actions = serializers.JSONField(required=False)
    allowed_ips = serializers.JSONField(required=False)

    class Meta:
        model = InboundHandler
        fields = [
            "id",
            "name",
            "description",
            "method",
            "body_type",
            "json_template",
            "parameters",
            "mappings",
            "campaign",
            "protection_period_seconds",
            "conditions",
            "response",
            "actions",
            "secret",
            "has_secret",
            "allowed_ips",
            "active",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_secret(self, obj: InboundHandler) -> bool:
        return bool(obj.secret)

    def get_url(self, obj: InboundHandler) -> str:
        return obj.public_url(self.context.get("request"))

    @staticmethod
    def _clean(check, value):
        try:
            return check(value)
        except config.ConfigError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_parameters(self, value):
        return self._clean(config.validate_parameters, value)

    def validate_conditions(self, value):
        return self._clean(config.validate_conditions, value)

    def validate_response(self, value):
        return self._clean(config.validate_response, value)

    def validate_actions(self, value):
        return self._clean(lambda v: config.validate_actions(v, self.tenant), value)

    def validate_allowed_ips(self, value):
        return self._clean(config.validate_allowed_ips, value)

    def validate_secret(self, value):
        return self._clean(config.validate_secret, value)

    def validate_protection_period_seconds(self, value):
        return self._clean(config.validate_protection_period, value)

    def validate(self, attrs):
        instance = self.instance
        template = attrs.get("json_template")
        changed = template is not None and (instance is None or template != instance.json_template)
        if changed and template.strip() and "parameters" not in attrs:
            body_type = attrs.get("body_type") or getattr(instance, "body_type", "json")
            previous = getattr(instance, "parameters", None) or ()
            try:
                attrs["parameters"] = config.parameters_from_template(template, body_type, previous)
            except config.ConfigError as exc:
                raise _field_error("json_template", exc) from exc
        if "mappings" in attrs or "parameters" in attrs:
            parameters = attrs.get("parameters", getattr(instance, "parameters", None) or [])
            mappings = attrs.get("mappings", getattr(instance, "mappings", None) or [])
            try:
                attrs["mappings"] = config.validate_mappings(mappings, parameters)
            except config.ConfigError as exc:
                raise _field_error("mappings", exc) from exc
        return attrs
