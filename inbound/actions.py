"""Storing an inbound lead and running the handler's actions, inside the caller's transaction.

Creates or updates — the rule: a call updates the tenant's existing lead with the same
normalised email; failing an email match, the one with the same normalised phone (E.164); the
most recent such lead when several match. A call with neither email nor phone, or matching
no lead, creates one.

Actions:
- ``distribute`` routes a NEW lead to every matching endpoint of its campaign (an updated lead
  was distributed when it was created and is not sold twice);
- ``deliver`` writes a delivery to exactly that endpoint, for new and updated leads alike
  (skipped when distribution already picked the endpoint for this lead);
- ``notify`` emails the address through Django's mail backend once the transaction commits
  (the ``inbound.notify`` task, enqueued on commit; inline in the embedded default).

Routing itself happens through ``leads.services.store_lead`` (the ``lead_stored`` signal) and
``deliveries.routing.route_lead``; both only write rows and NOTIFY, no outbound calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from deliveries.models import Delivery
from deliveries.routing import route_lead
from leads.models import Lead
from leads.services import store_lead


@dataclass(frozen=True)
class Plan:
    distribute: bool
    deliver: tuple[int, ...]
    notify: tuple[str, ...]


def plan(actions) -> Plan:
    """The handler's ``actions`` read into what to do (unknown entries are ignored)."""
    distribute = False
    deliver: list[int] = []
    notify: list[str] = []
    for action in actions or ():
        if not isinstance(action, Mapping):
            continue
        kind = action.get("type")
        if kind == "distribute":
            distribute = True
        elif kind == "deliver" and isinstance(action.get("endpoint"), int):
            deliver.append(action["endpoint"])
        elif kind == "notify" and isinstance(action.get("email"), str):
            notify.append(action["email"])
    return Plan(distribute, tuple(dict.fromkeys(deliver)), tuple(dict.fromkeys(notify)))


def store(handler, clean: Mapping, existing: Lead | None) -> tuple[Lead, bool]:
    """Update ``existing`` (found by the module's rule, row-locked) or create a lead, and run
    the actions; returns ``(lead, created)``.

    Must run inside a transaction. Raises ``leads.services.LeadInvalid`` when a required lead
    field is missing from a new lead.
    """
    todo = plan(handler.actions)
    created = existing is None
    distribute = created and todo.distribute
    direct = list(todo.deliver)
    lead = store_lead(
        handler.tenant_id,
        handler.campaign if created else None,
        clean,
        distribute=distribute,
        only_endpoints=direct if direct and not distribute else None,
        lead=existing,
    )
    if direct and distribute:
        routed = set(Delivery.objects.filter(lead=lead).values_list("endpoint_id", flat=True))
        remaining = [pk for pk in direct if pk not in routed]
        if remaining:
            route_lead(lead, distribute=False, only_endpoints=remaining)
    if todo.notify:
        # After commit, as a task carrying ids: no SMTP conversation inside the request (in the
        # embedded default the task runs inline, still after commit). robust: a broker outage
        # is logged and never turns an already committed lead into an error answer.
        transaction.on_commit(partial(enqueue_notify, lead.pk, handler.pk, created), robust=True)
    return lead, created


def enqueue_notify(lead_id: int, handler_id: int, created: bool) -> None:
    from .tasks import notify  # here: the tasks module imports this one

    notify.delay(lead_id, handler_id, created)


def send_notification(
    recipients, handler_name: str, lead_id: int, fields: Mapping, created: bool
) -> None:
    """Email the recipients about one stored lead (raises SMTP/OS errors for the task's retry)."""
    verb = "New lead" if created else "Lead updated"
    lines = [f"{verb} {lead_id} from inbound handler {handler_name!r}.", ""]
    lines += [f"{name}: {value}" for name, value in sorted(fields.items())]
    public = getattr(settings, "HUB_PUBLIC_URL", "").rstrip("/")
    if public:
        lines += ["", f"{public}/console/leads/lead/{lead_id}/change/"]
    send_mail(
        f"[Lead hub] {verb} {lead_id} ({handler_name})"[:200],
        "\n".join(lines),
        None,
        list(recipients),
    )
