"""Operator actions on deliveries: retry and cancel (API and console share these)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .models import FINAL_STATUSES, OPEN_STATUSES, Delivery, Status
from .recorder import run_follow_up
from .wakeup import notify_new_deliveries

logger = logging.getLogger("hub.deliveries")

CANCELED_BY_OPERATOR = "canceled by operator"


def retry(deliveries: QuerySet) -> int:
    """Send ``deliveries`` again, now. Answers how many were changed.

    A final delivery (accepted, rejected, failed, canceled) becomes pending with a fresh retry
    budget (earlier attempts stay counted in ``attempts`` and in the call logs). An open one
    that is not being sent right now is made due now. One being sent is left alone.
    """
    now = timezone.now()
    with transaction.atomic():
        # Open ones first: the final ones reopened below must not be counted twice.
        hurried = (
            deliveries.filter(status__in=OPEN_STATUSES)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(next_attempt_at=now, updated_at=now)
        )
        reopened = deliveries.filter(status__in=FINAL_STATUSES).update(
            status=Status.PENDING,
            attempts_base=F("attempts"),
            next_attempt_at=now,
            lease_until=None,
            updated_at=now,
        )
        if reopened or hurried:
            notify_new_deliveries()
    logger.info("operator retry: %d reopened, %d made due now", reopened, hurried)
    return reopened + hurried


def cancel(deliveries: QuerySet) -> int:
    """Cancel the open ones among ``deliveries``; answers how many.

    A call already under way still completes and is logged, but cannot change the state back
    (the engine records only deliveries that are still open). Routing's follow-up runs for the
    canceled deliveries (a waterfall moves on; reserved caps are released).
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            deliveries.filter(status__in=OPEN_STATUSES)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Delivery.objects.filter(pk__in=ids).update(
            status=Status.CANCELED,
            last_error=CANCELED_BY_OPERATOR,
            next_attempt_at=None,
            lease_until=None,
            updated_at=now,
        )
        run_follow_up(list(Delivery.objects.filter(pk__in=ids).select_related("lead", "endpoint")))
    logger.info("operator cancel: %d deliveries", len(ids))
    return len(ids)
