"""Adaptor API serializers: thin wrappers around ``adaptors.validation``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from leads.models import Lead
from tenants.api.base import TenantScopedSerializer

from .. import validation
from ..models import Adaptor
from ..render import CONTENT_TYPES

METHODS = ("GET", "POST", "PUT", "PATCH")


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class AdaptorRulesMixin:
    """Field validation shared by the saved adaptor and the preview's unsaved draft."""

    def validate_mappings(self, value):
        return _checked(validation.validate_mappings, value)

    def validate_constants(self, value):
        return _checked(validation.validate_constants, value)

    def validate_body_template(self, value):
        return _checked(validation.validate_body_template, value)

    def validate_xml_root(self, value):
        return _checked(validation.validate_xml_root, value)

    def check_targets(self, attrs: dict, instance: Adaptor | None = None) -> None:
        mappings = attrs.get("mappings", instance.mappings if instance else [])
        constants = attrs.get("constants", instance.constants if instance else [])
        try:
            validation.validate_targets(mappings or [], constants or [])
        except DjangoValidationError as exc:
            field = "mappings" if "mappings" in attrs or "constants" not in attrs else "constants"
            raise serializers.ValidationError({field: exc.messages}) from exc


class AdaptorSerializer(AdaptorRulesMixin, TenantScopedSerializer):
    mappings = serializers.JSONField(
        required=False,
        help_text='[{"source": lead field, "target": "a.b", "default"?, "transform"?}]',
    )
    constants = serializers.JSONField(required=False, help_text='[{"name", "value"}]')
    endpoint_count = serializers.SerializerMethodField(help_text="Endpoints using this adaptor.")

    class Meta:
        model = Adaptor
        fields = [
            "id",
            "name",
            "mappings",
            "constants",
            "body_template",
            "xml_root",
            "delimiter",
            "endpoint_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "body_template": {"trim_whitespace": False},
            "delimiter": {"trim_whitespace": False},
        }

    def get_endpoint_count(self, obj: Adaptor) -> int:
        annotated = getattr(obj, "endpoint_count", None)
        return annotated if annotated is not None else obj.endpoints.count()

    def validate(self, attrs):
        self.check_targets(attrs, self.instance)
        return attrs


class AdaptorDraftSerializer(AdaptorRulesMixin, serializers.Serializer):
    """Unsaved adaptor settings to preview (the console's form as it is being edited)."""

    mappings = serializers.JSONField(required=False, default=list)
    constants = serializers.JSONField(required=False, default=list)
    body_template = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    xml_root = serializers.CharField(
        required=False, allow_blank=True, default="lead", max_length=100
    )
    delimiter = serializers.CharField(
        required=False, allow_blank=True, default=",", max_length=10, trim_whitespace=False
    )

    def validate(self, attrs):
        self.check_targets(attrs)
        return attrs


class PreviewSerializer(serializers.Serializer):
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Lead values to render; standard sample values when neither this nor lead.",
    )
    lead = serializers.PrimaryKeyRelatedField(
        queryset=Lead.objects.all(), required=False, help_text="A lead of yours to render."
    )
    content_type = serializers.ChoiceField(choices=CONTENT_TYPES, default="json")
    method = serializers.ChoiceField(choices=METHODS, default="POST")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        tenant = getattr(request, "tenant", None) if request else None
        self.fields["lead"].queryset = Lead.objects.for_tenant(tenant)

    def validate(self, attrs):
        if "lead" in attrs and "fields" in attrs:
            raise serializers.ValidationError({"fields": ["Send either fields or lead, not both."]})
        return attrs


class PreviewDraftSerializer(PreviewSerializer):
    adaptor = AdaptorDraftSerializer(required=False, help_text="Unsaved adaptor settings.")


class PreviewResultSerializer(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.CharField(help_text="A placeholder URL: no endpoint is involved.")
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.CharField(help_text="The body as text (empty for GET and query).")
    content_type = serializers.CharField()
    mapped = serializers.JSONField(help_text="Mapped values and constants, nested.")
    warnings = serializers.ListField(child=serializers.CharField())
