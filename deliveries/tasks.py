"""Celery tasks of the delivery engine. Messages carry ids and the claim, never objects."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from endpoints.models import Endpoint

from .dispatcher import dispatch_due
from .engine import LEASE_MARGIN_SECONDS, Job, deadline_of, get_engine
from .models import OPEN_STATUSES, Delivery
from .recorder import INACTIVE, Outcome

logger = logging.getLogger("hub.deliveries")


@shared_task(name="deliveries.send_batch", ignore_result=True)
def send_batch(ids: list[int], claim: str) -> int:
    """Send the deliveries of one claim (``claim`` = the lease_until they were claimed with).

    Deliveries no longer open or no longer held by this claim (the message came late and the
    lease was taken over) are skipped. Returns once the rest are handed to this process's
    engine — not when the buyers answer. Answers how many were handed over.
    """
    claim_at = datetime.fromisoformat(claim)
    if (claim_at - timezone.now()).total_seconds() <= LEASE_MARGIN_SECONDS:
        logger.info("send_batch: claim of %d deliveries expired before it ran", len(ids))
        return 0
    deliveries = list(
        Delivery.objects.filter(pk__in=ids, lease_until=claim_at, status__in=OPEN_STATUSES)
        .select_related("lead")
        # Not needed to send or record; the lead's routing trace can be long.
        .defer("created_at", "updated_at", "lead__routing", "lead__created_at", "lead__updated_at")
        .order_by("pk")
    )
    if len(deliveries) < len(ids):
        logger.info(
            "send_batch: %d of %d deliveries no longer held", len(ids) - len(deliveries), len(ids)
        )
    # One Endpoint object per endpoint (its secrets decrypted once), shared by its deliveries.
    endpoints = Endpoint.objects.select_related("adaptor").in_bulk(
        {d.endpoint_id for d in deliveries}
    )
    engine = get_engine()
    deadline = deadline_of(claim_at)
    jobs = []
    for delivery in deliveries:
        endpoint = endpoints.get(delivery.endpoint_id)
        if endpoint is None:  # deleted a moment ago (its deliveries go with it)
            continue
        delivery.endpoint = endpoint
        if not endpoint.active:
            engine.start()
            engine.recorder.put(Outcome(delivery, claim_at, cancel=INACTIVE))
        else:
            jobs.append(Job(delivery, claim_at, deadline))
    return engine.submit(jobs)


@shared_task(name="deliveries.sweep", ignore_result=True)
def sweep() -> int:
    """The safety net (celery beat, every 5 s): dispatch whatever is due or whose lease went
    stale — nothing depends on a message surviving in the broker."""
    return dispatch_due()
