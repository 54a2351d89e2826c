"""Periodic work of the logs app (scheduled by CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .retention import purge_expired as purge


@shared_task(name="logs.purge_expired")
def purge_expired() -> dict:
    """Delete call logs and inbound calls past each tenant's retention, in small batches."""
    purged = purge()
    return {"call_logs": purged.call_logs, "inbound_calls": purged.inbound_calls}
