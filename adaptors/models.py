"""Adaptors: what to send — field mappings, constants, an optional body template."""

from django.db import models

from tenants.models import TenantOwned


class Adaptor(TenantOwned):
    name = models.CharField(max_length=200)
    # [{"source": lead field, "target": "a.b", "default"?: str, "transform"?: str}]
    mappings = models.JSONField(default=list, blank=True)
    # [{"name": str, "value": str}] sent with every lead
    constants = models.JSONField(default=list, blank=True)
    body_template = models.TextField(blank=True, default="")
    xml_root = models.CharField(max_length=100, default="lead")
    delimiter = models.CharField(max_length=10, default=",", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
