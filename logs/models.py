"""Call logs (one row per outbound attempt) and inbound calls (one row per hook request)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import TenantOwned


class Outcome(models.TextChoices):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"


class CallLog(TenantOwned):
    created_at = models.DateTimeField(default=timezone.now)
    endpoint = models.ForeignKey(
        "endpoints.Endpoint",
        null=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        db_constraint=False,
    )
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        db_constraint=False,
    )
    delivery = models.ForeignKey(
        "deliveries.Delivery",
        null=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        db_constraint=False,
    )
    attempt = models.PositiveIntegerField(default=1)
    phone = models.CharField(max_length=32, blank=True, default="")
    request = models.JSONField(default=dict)  # method, url, headers, body (secrets redacted)
    response = models.JSONField(default=dict)  # status_code, headers, body (capped)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    result = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    test = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="calllog_tenant_created"),
            models.Index(fields=["tenant", "endpoint", "-created_at"], name="calllog_endpoint"),
            models.Index(fields=["tenant", "phone", "-created_at"], name="calllog_phone"),
            models.Index(fields=["tenant", "outcome", "-created_at"], name="calllog_outcome"),
            models.Index(fields=["delivery"], name="calllog_delivery"),
            models.Index(fields=["lead"], name="calllog_lead"),
        ]

    def __str__(self) -> str:
        return f"Call {self.pk} {self.outcome}"


class InboundStatus(models.TextChoices):
    SUCCESS = "success"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    ERROR = "error"


class InboundCall(TenantOwned):
    created_at = models.DateTimeField(auto_now_add=True)
    handler = models.ForeignKey(
        "inbound.InboundHandler", on_delete=models.CASCADE, related_name="calls"
    )
    method = models.CharField(max_length=10)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    content_type = models.CharField(max_length=200, blank=True, default="")
    headers = models.JSONField(default=dict)  # secrets redacted
    raw_body = models.TextField(blank=True, default="")
    query = models.TextField(blank=True, default="")
    parsed = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=InboundStatus.choices)
    response_status = models.PositiveSmallIntegerField(default=200)
    response_body = models.TextField(blank=True, default="")
    response_content_type = models.CharField(max_length=100, blank=True, default="")
    error = models.TextField(blank=True, default="")
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_calls",
        db_constraint=False,
    )
    dedupe_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["handler", "-created_at"], name="inboundcall_handler"),
            models.Index(fields=["tenant", "-created_at"], name="inboundcall_tenant"),
            models.Index(
                fields=["handler", "dedupe_key", "-created_at"],
                name="inboundcall_dedupe",
                condition=models.Q(status="success"),
            ),
        ]

    def __str__(self) -> str:
        return f"Inbound call {self.pk} {self.status}"
