"""Endpoints: where and how a lead is sent, and how the buyer's answer is read."""

from __future__ import annotations

from django.db import models

from adaptors.models import Adaptor
from tenants.crypto import EncryptedJSONField
from tenants.models import TenantOwned


class Category(models.TextChoices):
    CRM = "crm", "CRM"
    DIALER = "dialer", "Dialer"
    ENRICHMENT = "enrichment", "Enrichment"
    COMPLIANCE = "compliance", "Compliance"
    CLICK_NETWORK = "click_network", "Click network"
    CUSTOM = "custom", "Custom"


PIPELINE_CATEGORIES = frozenset({Category.ENRICHMENT, Category.COMPLIANCE})


class Method(models.TextChoices):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"


class ContentType(models.TextChoices):
    JSON = "json", "JSON"
    XML = "xml", "XML"
    FORM = "form", "Form (urlencoded)"
    QUERY = "query", "Query string"


class ResponseFormat(models.TextChoices):
    JSON = "json", "JSON"
    XML = "xml", "XML"
    TEXT = "text", "Text"


class AuthType(models.TextChoices):
    NONE = "none"
    BASIC = "basic"
    BEARER = "bearer"
    QUERY = "query"
    HEADER = "header"
    OAUTH2 = "oauth2"


# Which auth keys are secrets (kept encrypted in ``Endpoint.secrets``, never returned).
SECRET_AUTH_KEYS = frozenset({"password", "token", "params", "header_value", "client_secret"})

DEFAULT_RETRY = {"max_attempts": 3, "backoff_seconds": 30}


class Endpoint(TenantOwned):
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.CUSTOM)
    method = models.CharField(max_length=6, choices=Method.choices, default=Method.POST)
    url = models.URLField(max_length=2000)
    sandbox_url = models.URLField(max_length=2000, blank=True, default="")
    use_sandbox = models.BooleanField(default=False)
    content_type = models.CharField(
        max_length=10, choices=ContentType.choices, default=ContentType.JSON
    )
    timeout_seconds = models.PositiveIntegerField(default=30)
    headers = models.JSONField(default=list, blank=True)  # [{"name", "value"}]
    # Non-secret auth settings: {"type", "username"?, "header_name"?, "token_url"?, ...}
    auth = models.JSONField(default=dict, blank=True)
    # Secret values (auth secrets, "signing_secret"), encrypted at rest, write-only.
    secrets = EncryptedJSONField(blank=True, default="")
    response_format = models.CharField(
        max_length=10, choices=ResponseFormat.choices, default=ResponseFormat.JSON
    )
    success = models.JSONField(null=True, blank=True)  # {"path", "op", "value"}
    capture = models.JSONField(default=list, blank=True)  # [{"path", "lead_field"}]
    reject_reason_path = models.CharField(max_length=500, blank=True, default="")
    adaptor = models.ForeignKey(
        Adaptor, null=True, blank=True, on_delete=models.PROTECT, related_name="endpoints"
    )
    campaigns = models.ManyToManyField("leads.Campaign", blank=True, related_name="endpoints")
    priority = models.IntegerField(default=100)
    active = models.BooleanField(default=True)
    filters = models.JSONField(null=True, blank=True)
    caps = models.JSONField(default=dict, blank=True)  # {"daily", "weekly", "monthly"}
    schedule = models.JSONField(null=True, blank=True)
    geo = models.JSONField(null=True, blank=True)
    retry = models.JSONField(default=dict, blank=True)
    rate_limit_per_second = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def target_url(self) -> str:
        return self.sandbox_url if self.use_sandbox and self.sandbox_url else self.url

    @property
    def auth_type(self) -> str:
        return (self.auth or {}).get("type") or AuthType.NONE

    @property
    def signing_secret(self) -> str:
        return (self.secrets or {}).get("signing_secret", "")

    @property
    def retry_policy(self) -> dict:
        return {**DEFAULT_RETRY, **(self.retry or {})}

    def secret_values(self) -> list[str]:
        """Every secret string this endpoint holds, for redaction.

        Includes each value of the ``params`` query string and the credential part of secret
        header values ("OAuth <token>"), so a secret is masked wherever it is echoed alone.
        """
        from urllib.parse import parse_qsl

        values: list[str] = []
        for key, value in (self.secrets or {}).items():
            items = value.values() if isinstance(value, dict) else [value]
            for item in items:
                if not item:
                    continue
                text = str(item)
                values.append(text)
                parts = text.split()
                if len(parts) > 1 and len(parts[-1]) >= 8:
                    values.append(parts[-1])
                if key == "params":
                    values += [v for _, v in parse_qsl(text) if v]
        return values
