"""Background work of inbound handlers: the notify action's email, off the request path."""

from __future__ import annotations

import smtplib

from celery import shared_task

from leads.models import Lead

from .actions import plan, send_notification
from .models import InboundHandler


@shared_task(
    name="inbound.notify",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=5,
)
def notify(lead_id: int, handler_id: int, created: bool) -> int:
    """Email the handler's notify addresses about one stored lead; returns how many were sent.

    Reads the addresses and the lead when it runs (the message carries ids only). A lead or
    handler deleted meanwhile sends nothing.
    """
    lead = Lead.objects.filter(pk=lead_id).first()
    handler = InboundHandler.objects.filter(pk=handler_id).first()
    if lead is None or handler is None:
        return 0
    recipients = plan(handler.actions).notify
    if not recipients:
        return 0
    send_notification(recipients, handler.name, lead.pk, lead.fields, created)
    return len(recipients)
