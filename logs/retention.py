"""Retention: call logs and inbound calls older than the tenant's ``log_retention_days`` go.

Rows are deleted in batches of BATCH_SIZE ids, each batch its own short transaction, so a purge
of millions of rows never holds long locks or one huge transaction; the ids are found along the
(tenant, created_at) indexes. A retention of 0 days means "keep forever".
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Model
from django.utils import timezone

from tenants.models import Tenant

from .models import CallLog, InboundCall

BATCH_SIZE = 5000

logger = logging.getLogger("hub.logs.retention")


@dataclass
class Purged:
    call_logs: int = 0
    inbound_calls: int = 0


def delete_older_than(
    model: type[Model], tenant_id: int, cutoff: dt.datetime, batch_size: int = BATCH_SIZE
) -> int:
    """Delete ``model`` rows of one tenant created before ``cutoff``, oldest first, in batches."""
    deleted = 0
    while True:
        ids = list(
            model.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        # One short DELETE … WHERE id IN (…) per batch (Django's fast delete: nothing cascades).
        model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch_size:
            return deleted


def purge_tenant(
    tenant: Tenant, *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> Purged:
    """Apply ``tenant.log_retention_days`` to its call logs and inbound calls."""
    days = tenant.log_retention_days
    if not days:
        return Purged()
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    return Purged(
        call_logs=delete_older_than(CallLog, tenant.pk, cutoff, batch_size),
        inbound_calls=delete_older_than(InboundCall, tenant.pk, cutoff, batch_size),
    )


def purge_expired(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> Purged:
    """Purge every tenant per its own setting; returns the totals."""
    total = Purged()
    tenants = Tenant.objects.only("id", "slug", "log_retention_days").order_by("id")
    for tenant in tenants.iterator():
        purged = purge_tenant(tenant, now=now, batch_size=batch_size)
        if purged.call_logs or purged.inbound_calls:
            logger.info(
                "retention %s: deleted %d call logs, %d inbound calls older than %d days",
                tenant.slug,
                purged.call_logs,
                purged.inbound_calls,
                tenant.log_retention_days,
            )
        total.call_logs += purged.call_logs
        total.inbound_calls += purged.inbound_calls
    return total
