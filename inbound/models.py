"""Inbound handlers: public URLs that receive leads from outside systems."""

from __future__ import annotations

import secrets

from django.db import models

from tenants.crypto import EncryptedTextField
from tenants.models import TenantOwned
from tenants.urls import public_url


def new_token() -> str:
    return secrets.token_urlsafe(24)


class BodyType(models.TextChoices):
    FORM = "form", "Form (urlencoded or multipart)"
    JSON = "json", "JSON"
    XML = "xml", "XML"


class HandlerMethod(models.TextChoices):
    """POST creates or updates a lead; GET looks one up and answers its fields."""

    POST = "POST", "POST"
    GET = "GET", "GET"


DEFAULT_ACTIONS = [{"type": "distribute"}]


def default_actions() -> list:
    return [dict(a) for a in DEFAULT_ACTIONS]


class InboundHandler(TenantOwned):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    method = models.CharField(
        max_length=4, choices=HandlerMethod.choices, default=HandlerMethod.POST
    )
    body_type = models.CharField(max_length=4, choices=BodyType.choices, default=BodyType.JSON)
    json_template = models.TextField(blank=True, default="")
    parameters = models.JSONField(default=list, blank=True)  # [{"name", "type", "required"?}]
    mappings = models.JSONField(default=list, blank=True)  # [{"parameter", "lead_field"}]
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="handlers"
    )
    protection_period_seconds = models.PositiveIntegerField(default=0)
    conditions = models.JSONField(null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)  # {"status_code","content_type","body"}
    actions = models.JSONField(default=default_actions, blank=True)
    secret = EncryptedTextField(blank=True, default="")
    allowed_ips = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        return f"/hooks/{self.token}"

    def public_url(self, request=None) -> str:
        """The absolute URL callers post to (see ``tenants.urls.public_url``)."""
        return public_url(self.path, request)
