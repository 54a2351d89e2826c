"""Endpoint API serializers: thin wrappers around ``endpoints.validation``."""

from __future__ import annotations

import logging

from rest_framework import serializers

from tenants.api.base import TenantScopedSerializer
from tenants.redaction import MASK

from .. import presets
from ..auth import SECRET_KEYS
from ..models import Endpoint, Method
from ..validation import (
    auth_for_display,
    clean_auth,
    clean_capture,
    clean_headers,
    clean_path,
    clean_signing_secret,
    clean_success,
    clean_url,
    endpoint_warnings,
    headers_for_display,
    parse_headers_text,
    rule_validators,
    run_rule,
    split_headers,
)

logger = logging.getLogger("hub.endpoints")

AUTH_SECRET_KEYS = frozenset(k for keys in SECRET_KEYS.values() for k in keys)
BODY_METHODS = frozenset({Method.POST, Method.PUT, Method.PATCH})
DICT_RULES = frozenset({"caps", "retry"})  # stored as {} rather than null


class EndpointSerializer(TenantScopedSerializer):
    url = serializers.URLField(max_length=2000)
    sandbox_url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    timeout_seconds = serializers.IntegerField(min_value=1, max_value=300, required=False)
    headers = serializers.JSONField(
        required=False, help_text='[{"name", "value"}]; sensitive values answer "********".'
    )
    headers_text = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="Alternative to headers: 'Name: value|Name2: value2'.",
    )
    auth = serializers.JSONField(
        required=False,
        help_text='{"type": "none|basic|bearer|query|header|oauth2", ...}; secrets answer '
        '"********"; omit a secret (or send "********") to keep it.',
    )
    signing_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="whsec_… Standard Webhooks secret; '' or null removes it.",
    )
    has_signing_secret = serializers.SerializerMethodField()
    success = serializers.JSONField(required=False, allow_null=True)
    capture = serializers.JSONField(required=False)
    filters = serializers.JSONField(required=False, allow_null=True)
    caps = serializers.JSONField(required=False, allow_null=True)
    schedule = serializers.JSONField(required=False, allow_null=True)
    geo = serializers.JSONField(required=False, allow_null=True)
    retry = serializers.JSONField(required=False, allow_null=True)
    rate_limit_per_second = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False, allow_null=True
    )
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "name",
            "category",
            "method",
            "url",
            "sandbox_url",
            "use_sandbox",
            "content_type",
            "timeout_seconds",
            "headers",
            "headers_text",
            "auth",
            "signing_secret",
            "has_signing_secret",
            "response_format",
            "success",
            "capture",
            "reject_reason_path",
            "adaptor",
            "campaigns",
            "priority",
            "active",
            "filters",
            "caps",
            "schedule",
            "geo",
            "retry",
            "rate_limit_per_second",
            "created_at",
            "updated_at",
            "warnings",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_signing_secret(self, obj) -> bool:
        return bool((obj.secrets or {}).get("signing_secret"))

    def get_warnings(self, obj) -> list[str]:
        return endpoint_warnings(obj)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        secrets = instance.secrets or {}
        data["headers"] = headers_for_display(instance.headers, secrets.get("headers") or {})
        data["auth"] = auth_for_display(instance.auth, secrets)
        return data

    def validate_url(self, value: str) -> str:
        try:
            return clean_url(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_sandbox_url(self, value: str) -> str:
        return self.validate_url(value) if value else value

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}
        instance = self.instance
        stored = dict(instance.secrets or {}) if instance is not None else {}
        secrets = dict(stored)

        def current(name, default=None):
            if name in attrs:
                return attrs[name]
            return getattr(instance, name) if instance is not None else default

        def attempt(field: str, fn):
            try:
                return fn()
            except ValueError as exc:
                errors.setdefault(field, []).append(str(exc))
                return None

        # Headers: a list or the pipe-delimited text; sensitive values become secrets.
        header_field = "headers"
        if "headers_text" in attrs:
            text = attrs.pop("headers_text")
            if "headers" in attrs:
                errors["headers_text"] = ["Give headers or headers_text, not both."]
            else:
                header_field = "headers_text"
                parsed = attempt("headers_text", lambda: parse_headers_text(text))
                if parsed is not None:
                    attrs["headers"] = parsed
        if "headers" in attrs and header_field not in errors:
            split = attempt(
                header_field,
                lambda: split_headers(clean_headers(attrs["headers"]), stored.get("headers") or {}),
            )
            if split is not None:
                attrs["headers"], secret_headers = split
                secrets.pop("headers", None)
                if secret_headers:
                    secrets["headers"] = secret_headers

        if "auth" in attrs:
            cleaned = attempt(
                "auth",
                lambda: clean_auth(attrs["auth"], instance.auth if instance else {}, stored),
            )
            if cleaned is not None:
                attrs["auth"], auth_secrets = cleaned
                for key in AUTH_SECRET_KEYS:
                    secrets.pop(key, None)
                secrets.update(auth_secrets)

        if "signing_secret" in attrs:
            value = attrs.pop("signing_secret")
            if value != MASK:
                cleaned = attempt("signing_secret", lambda: clean_signing_secret(value))
                if cleaned:
                    secrets["signing_secret"] = cleaned
                elif cleaned == "":
                    secrets.pop("signing_secret", None)

        # Paths are checked against the (possibly new) response format.
        fmt = current("response_format", "json")
        format_changed = "response_format" in attrs and instance is not None
        if "success" in attrs or format_changed:
            value = current("success")
            cleaned = attempt("success", lambda: clean_success(value, fmt))
            if "success" not in errors:
                attrs["success"] = cleaned
        if "capture" in attrs or format_changed:
            value = current("capture", [])
            cleaned = attempt("capture", lambda: clean_capture(value, fmt))
            if cleaned is not None:
                attrs["capture"] = cleaned
        if "reject_reason_path" in attrs or format_changed:
            value = current("reject_reason_path", "")
            cleaned = attempt("reject_reason_path", lambda: clean_path(value, fmt))
            if cleaned is not None:
                attrs["reject_reason_path"] = cleaned

        for name, validator in rule_validators().items():
            if name not in attrs:
                continue
            if attrs[name] is None and name in DICT_RULES:
                attrs[name] = {}
            if attrs[name] in (None, {}) and name not in DICT_RULES:
                attrs[name] = None
                continue
            attempt(name, lambda v=attrs[name], fn=validator: run_rule(fn, v))

        if current("method", Method.POST) in BODY_METHODS and current("adaptor") is None:
            errors.setdefault("adaptor", []).append(
                "An adaptor is required for POST, PUT and PATCH endpoints."
            )

        if errors:
            raise serializers.ValidationError(errors)
        if secrets != stored or instance is None:
            attrs["secrets"] = secrets
        return attrs

    def save(self, **kwargs):
        obj = super().save(**kwargs)
        for warning in self.get_warnings(obj):
            logger.warning("endpoint %s: %s", obj.pk, warning)
        return obj


class PresetCredentialSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField()
    secret = serializers.BooleanField()
    help = serializers.CharField()


class PresetSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    method = serializers.CharField()
    content_type = serializers.CharField()
    default_url = serializers.CharField()
    url_help = serializers.CharField()
    credentials = PresetCredentialSerializer(many=True)


class PresetListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PresetSerializer(many=True)


class FromPresetSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(choices=[(p.key, p.name) for p in presets.PRESETS])
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    url = serializers.URLField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Overrides the preset's URL (a sandbox org, a regional host, a test server).",
    )
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
