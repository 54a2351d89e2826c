"""The public receiver behind ``/hooks/<token>``: the hot path from request to committed lead.

Order of checks, each answered as API.md says and logged as an InboundCall (except an unknown
token, which has no handler to log under):

    unknown token 404 · inactive 404 · client IP not allowed 403 · wrong method 405 ·
    body over the limit 413 · bad/missing/stale signature 401 · wrong content type, malformed
    body, missing or invalid parameter 400 · conditions not met 200 ``ignored`` ·
    duplicate inside the protection period: the original answer · else the lead is stored.

A success answers only after one transaction committed the lead, its deliveries (routing) and
the InboundCall row. New leads of concurrent calls share that transaction (``inbound.batch``,
the group commit); updates, capped routes and ``deliver`` actions take the one-call path here.
Errors, ignored calls and duplicates are logged in a transaction of their own. A database
outage answers 503 ``{"status": "unavailable"}``, never a 2xx.

Duplicates: identical calls (same method, body and query: the ``dedupe_key``) inside the
protection period. On PostgreSQL the check and the store run under
``pg_advisory_xact_lock(hash(handler, dedupe_key))``, so when two identical calls arrive at the
same moment the second waits for the first to commit, then finds its success row and answers
the same. (SQLite, the embedded default, serialises write transactions anyway.)
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

from django.db import DataError, InterfaceError, OperationalError, transaction
from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest
from django.utils import timezone

from endpoints.signing import SignatureError, verify
from leads import conditions
from leads.models import Lead
from leads.services import LeadInvalid, normalise
from logs.models import InboundStatus

from . import actions, batch, params, queries, responses
from .calllog import CallRecord, parsed_for_log
from .models import HandlerMethod, InboundHandler
from .parsing import BodyError, parse_body, parse_query
from .responses import JSON, Answer
from .security import BadContentLength, BodyTooLarge, client_ip, ip_allowed, read_body

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
UNAVAILABLE = Answer(503, json.dumps({"status": "unavailable"}))
NOT_FOUND = Answer(404, json.dumps({"status": "not_found"}))
IGNORED = Answer(200, json.dumps({"status": "ignored"}))


class Refused(Exception):
    """A call answered with an error: the status code, the message and per-name errors."""

    def __init__(self, status_code: int, message: str, errors: dict | None = None, headers=()):
        super().__init__(message)
        self.answer = Answer(
            status_code,
            json.dumps(
                {"status": "error", "error": message, **({"errors": errors} if errors else {})}
            ),
            JSON,
            headers=tuple(headers),
        )


def receive(request: HttpRequest, token: str) -> Answer:
    """Handle one call to ``/hooks/<token>``; never raises for bad input or a database outage."""
    if not _TOKEN.fullmatch(token):
        return NOT_FOUND  # never a token we issued; no need to ask the database
    try:
        handler = queries.handler_by_token(token)
        if handler is None:
            return NOT_FOUND
        record = CallRecord(handler, request, client_ip(request))
        try:
            return _handle(handler, record, request)
        except DataError as exc:
            # A value the database refused despite the checks: the caller's data, not an outage.
            logger.warning("inbound handler %s: value refused by the database: %s", handler.pk, exc)
            answer = Refused(400, "A value could not be stored.").answer
            record.save(InboundStatus.ERROR, answer, error=str(exc)[:500])
            return answer
    except (OperationalError, InterfaceError) as exc:
        logger.error("inbound receiver: database unavailable: %s", exc)
        return UNAVAILABLE


def _handle(handler: InboundHandler, record: CallRecord, request: HttpRequest) -> Answer:
    try:
        if handler.method == HandlerMethod.GET:
            return _guarded(handler, record, request, _lookup)
        return _guarded(handler, record, request, _accept)
    except Refused as refusal:
        record.save(InboundStatus.ERROR, refusal.answer, error=str(refusal))
        return refusal.answer


def _guarded(handler, record: CallRecord, request: HttpRequest, then) -> Answer:
    """The checks every call passes before its data is looked at; then ``then``."""
    if not handler.active:
        record.save(InboundStatus.ERROR, NOT_FOUND, error="The handler is inactive.")
        return NOT_FOUND
    if not ip_allowed(record.client_ip, handler.allowed_ips):
        raise Refused(403, f"Address {record.client_ip or 'unknown'} is not allowed.")
    if request.method != handler.method:
        raise Refused(
            405, f"This handler accepts {handler.method} only.", headers=[("Allow", handler.method)]
        )
    try:
        record.body = read_body(request)
    except BodyTooLarge as exc:
        raise Refused(413, str(exc)) from exc
    except BadContentLength as exc:
        raise Refused(400, str(exc)) from exc
    if handler.secret:
        try:
            verify(
                handler.secret, request.headers, record.body, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
        except SignatureError as exc:
            raise Refused(401, f"Signature check failed: {exc}") from exc
    return then(handler, record, request)


def _parameters(handler, record: CallRecord, data: object) -> dict:
    record.parsed = parsed_for_log(data)
    try:
        return params.extract(handler.parameters, data)
    except params.ParameterError as exc:
        raise Refused(400, f"Invalid parameters: {exc}", exc.errors) from exc


def _normalised(handler, values: dict) -> dict:
    try:
        return normalise(handler.tenant_id, values, partial=True)
    except LeadInvalid as exc:
        raise _invalid_lead(handler, exc) from exc


def _invalid_lead(handler, exc: LeadInvalid) -> Refused:
    """A 400 naming the parameters (not only the lead fields) whose values were refused."""
    errors = {
        params.parameter_for(handler.mappings, name): msgs for name, msgs in exc.errors.items()
    }
    first = next(iter(errors))
    return Refused(400, f"Invalid value for {first}: {errors[first][0]}", errors)


def _conditions_hold(handler, record: CallRecord, data, values: dict) -> bool:
    if not handler.conditions:
        return True
    scope = params.condition_data(values, data)
    if conditions.evaluate(handler.conditions, scope):
        return True
    record.save(
        InboundStatus.IGNORED, IGNORED, error=conditions.explain(handler.conditions, scope)[:500]
    )
    return False


def _accept(handler, record: CallRecord, request: HttpRequest) -> Answer:
    """POST: parse, check, then store or recognise a duplicate."""
    try:
        data = parse_body(
            handler.body_type, record.body, request.META.get("CONTENT_TYPE", ""), request.META
        )
    except BodyError as exc:
        raise Refused(400, str(exc)) from exc
    values = _parameters(handler, record, data)
    if not _conditions_hold(handler, record, data, values):
        return IGNORED
    clean = _normalised(handler, params.lead_values(handler.mappings, values))
    try:
        pending = batch.prepare(handler, record, clean)
        if pending is not None:
            answer = batch.store(pending)
            if answer is not batch.SLOW:
                return answer
        with transaction.atomic():
            duplicate, existing = _prior(handler, record, clean)
            if duplicate is not None:
                return duplicate
            lead, created = actions.store(handler, clean, existing)
            answer = responses.render(
                handler.response,
                "accepted" if created else "updated",
                responses.lead_context(lead.pk, lead.fields, lead.campaign_id, lead.created_at),
                201 if created else 200,
            )
            record.save(InboundStatus.SUCCESS, answer, lead_id=lead.pk)
    except LeadInvalid as exc:
        raise _invalid_lead(handler, exc) from exc
    return answer


def _prior(handler, record: CallRecord, clean: dict) -> tuple[Answer | None, Lead | None]:
    """Inside the storing transaction: ``(original answer, None)`` when an identical call
    succeeded within the protection period (this one is logged as a duplicate), else
    ``(None, the lead to update or None)``.

    With a protection period, the (handler, dedupe key) lock is taken first, so a concurrent
    identical call is either seen committed here or waits for this transaction.
    """
    key = record.dedupe_key if handler.protection_period_seconds else None
    if key is not None:
        queries.lock_dedupe_key(handler.pk, key)
    since = timezone.now() - timedelta(seconds=handler.protection_period_seconds)
    found = queries.prior(
        handler.pk,
        key,
        since,
        handler.tenant_id,
        str(clean.get("email") or ""),
        str(clean.get("phone") or ""),
    )
    if found.original_call is not None:
        status_code, body, content_type, lead_id = queries.original_answer(found.original_call)
        answer = Answer(status_code, body, content_type or JSON)
        record.save(InboundStatus.DUPLICATE, answer, lead_id=lead_id)
        return answer, None
    return None, queries.lead_for_update(found.lead) if found.lead is not None else None


def _lookup(handler, record: CallRecord, request: HttpRequest) -> Answer:
    """GET: find the newest lead matching every mapped parameter given; answer its fields."""
    try:
        data = parse_query(record.query_bytes.decode("utf-8", "replace"))
    except BodyError as exc:
        raise Refused(400, str(exc)) from exc
    values = _parameters(handler, record, data)
    if not _conditions_hold(handler, record, data, values):
        return IGNORED
    clean = _normalised(handler, params.lead_values(handler.mappings, values))
    if not clean:
        raise Refused(400, "Give at least one mapped parameter to look a lead up by.")
    leads = Lead.objects.filter(tenant_id=handler.tenant_id)
    for index, (name, value) in enumerate(clean.items()):
        if name in Lead.INDEXED:
            limit = Lead._meta.get_field(name).max_length
            leads = leads.filter(**{name: str(value)[:limit]})
        else:
            # An explicit KeyTransform: a field name is never parsed as a lookup path, and it
            # works on SQLite (the embedded default) as on PostgreSQL.
            alias = f"_lookup_{index}"
            leads = leads.alias(**{alias: KeyTransform(name, "fields")}).filter(**{alias: value})
    lead = leads.order_by("-created_at", "-id").first()
    if lead is None:
        answer = Answer(404, json.dumps({"status": "not_found"}))
        record.save(InboundStatus.ERROR, answer, error="No lead matches the lookup.")
        return answer
    mapped = [m["lead_field"] for m in handler.mappings or () if "lead_field" in m]
    mapped = mapped or list(lead.fields)
    found = {name: lead.fields.get(name) for name in mapped}
    if (handler.response or {}).get("body"):
        answer = responses.render(
            handler.response,
            "found",
            responses.lead_context(lead.pk, lead.fields, lead.campaign_id, lead.created_at),
            200,
        )
    else:
        code = int((handler.response or {}).get("status_code") or 200)
        answer = Answer(code, json.dumps({"status": "found", "lead_id": lead.pk, "fields": found}))
    record.save(InboundStatus.SUCCESS, answer, lead_id=lead.pk)
    return answer
