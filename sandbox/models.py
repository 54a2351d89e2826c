"""Request bins: a built-in receiver operators point sandbox URLs at."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenants.models import TenantOwned
from tenants.urls import public_url


def new_bin_token() -> str:
    return secrets.token_urlsafe(18)


class RequestBin(TenantOwned):
    name = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True, default=new_bin_token, editable=False)
    response_status = models.PositiveSmallIntegerField(
        default=200,
        validators=[MinValueValidator(200), MaxValueValidator(599)],
        help_text="HTTP status the bin answers with (200–599).",
    )
    response_content_type = models.CharField(max_length=100, default="application/json")
    response_body = models.TextField(
        blank=True,
        default='{"success": true}',
        help_text="Answered as-is to every request, so you can rehearse a buyer's reply.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        return f"/sandbox/{self.token}"

    def absolute_url(self, request=None) -> str:
        """The public URL (see ``tenants.urls.public_url``)."""
        return public_url(self.path, request)


class BinRequest(TenantOwned):
    bin = models.ForeignKey(RequestBin, on_delete=models.CASCADE, related_name="requests")
    created_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    query = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict)
    body = models.TextField(blank=True, default="")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["bin", "-created_at"], name="binrequest_bin")]
