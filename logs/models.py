"""Call logs (one row per outbound attempt) and inbound calls (one row per hook request)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import TenantOwned, tenant_field


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
        db_index=False,  # served by the named indexes below
    )
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        db_constraint=False,
        db_index=False,  # served by the named indexes below
    )
    delivery = models.ForeignKey(
        "deliveries.Delivery",
        null=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        db_constraint=False,
        db_index=False,  # served by the named indexes below
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
        # Chosen from EXPLAIN (ANALYZE) on 2M rows (bench/logs_bench.py): every list filter
        # plus the date range walks one of these backwards in (created_at, id) order and stops
        # at the page. They are ascending on purpose: rows arrive in time order, and ascending
        # keys append at the right edge of the b-tree (dense pages) where descending ones split
        # pages in half and grow the index ~1.8x. Test calls are rare: a small partial index
        # keeps "test=true" fast even when a range holds none.
        # Two more are created by migration 0002 and not declared here, because their best form
        # exists on PostgreSQL only: calllog_endpoint_time (endpoint, created_at, id) — no
        # tenant column needed, an endpoint has one tenant; it also serves SET NULL when an
        # endpoint is deleted — which on PostgreSQL INCLUDEs tenant, outcome, duration_ms and
        # test so an endpoint's stats are an index-only scan; and calllog_result_trgm, a
        # pg_trgm GIN index on UPPER(result) for ``q``.
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="calllog_tenant_time"),
            models.Index(fields=["tenant", "phone", "created_at", "id"], name="calllog_phone_time"),
            models.Index(
                fields=["tenant", "outcome", "created_at", "id"], name="calllog_outcome_time"
            ),
            models.Index(
                fields=["tenant", "created_at", "id"],
                name="calllog_test_time",
                condition=models.Q(test=True),
            ),
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
    tenant = tenant_field(db_index=False)  # inboundcall_tenant_time leads with it
    created_at = models.DateTimeField(auto_now_add=True)
    handler = models.ForeignKey(
        "inbound.InboundHandler",
        on_delete=models.CASCADE,
        related_name="calls",
        db_index=False,  # inboundcall_handler_time leads with it
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
            models.Index(fields=["handler", "created_at", "id"], name="inboundcall_handler_time"),
            models.Index(fields=["tenant", "created_at", "id"], name="inboundcall_tenant_time"),
            models.Index(
                fields=["tenant", "status", "created_at", "id"], name="inboundcall_status_time"
            ),
            models.Index(
                fields=["handler", "dedupe_key", "-created_at"],
                name="inboundcall_dedupe",
                condition=models.Q(status="success"),
            ),
        ]

    def __str__(self) -> str:
        return f"Inbound call {self.pk} {self.status}"
