"""Deliveries: one per (lead, endpoint) routed, the outbox the engine drains."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from tenants.models import TenantOwned, tenant_field


class Status(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELED = "canceled"


OPEN_STATUSES = (Status.PENDING, Status.RETRYING)
FINAL_STATUSES = (Status.ACCEPTED, Status.REJECTED, Status.FAILED, Status.CANCELED)


class Step(models.TextChoices):
    PIPELINE = "pipeline"  # enrichment / compliance, before distribution
    DISTRIBUTION = "distribution"
    DIRECT = "direct"  # an inbound "deliver" action or an operator send


class Delivery(TenantOwned):
    tenant = tenant_field(db_index=False)  # delivery_tenant_status leads with it
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        "endpoints.Endpoint", on_delete=models.CASCADE, related_name="deliveries"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    step = models.CharField(max_length=12, choices=Step.choices, default=Step.DISTRIBUTION)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts made before the last operator retry: the retry policy counts from here.
    attempts_base = models.PositiveIntegerField(default=0)
    # Due from this time while open (a new delivery is due at once); None once final.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # A claim: while in the future, one worker owns the current attempt.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    captured = models.JSONField(default=dict, blank=True)
    # Cap periods reserved for this delivery, released if it does not end accepted.
    cap_periods = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["tenant", "status", "-created_at"], name="delivery_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return str(self.key)


class CapCounter(models.Model):
    """Accepted-or-reserved leads per endpoint and period; updated atomically."""

    endpoint = models.ForeignKey(
        "endpoints.Endpoint", on_delete=models.CASCADE, related_name="cap_counters"
    )
    period = models.CharField(max_length=20)  # d:2026-12-06 | w:2026-W49 | m:2026-12
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "period"], name="uniq_cap_period")
        ]
