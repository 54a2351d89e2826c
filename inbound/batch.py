"""Group commit for new inbound leads: many calls, one transaction, a few statements.

The common inbound call brings a new lead (no identical call inside the protection period,
no existing lead with its email or phone) whose routing touches no cap counter. For those the
receiver prepares everything in the request thread — parsed, mapped, normalised, routing
planned (``deliveries.routing.plan_routing(reserve=False)``) — and hands the write to this
module, which stores a whole batch of such calls in one transaction::

    1. advisory locks on every (handler, dedupe key), in key order; lead ids from the sequence
    2. one look-up of every call's duplicate / existing lead (read after the locks)
    3. inserts of the leads, their deliveries and the InboundCall rows (one JSON document
       each), then COMMIT

In psycopg's pipeline mode that is two round trips: BEGIN with 1 and 2, then 3 with COMMIT.

Every call is answered only after that COMMIT, exactly as on the one-call path. A call the
batch cannot decide alone goes back to the caller as ``SLOW``, to be stored by the receiver's
one-call path after the batch committed: a call that updates an existing lead, or one that
shares a dedupe key, email or phone with an earlier call of the same batch (the one-call path
then finds the first one's rows and answers "duplicate" or updates it). Duplicates of calls
committed earlier are answered and logged here.

Batching: in each web process one writer thread takes whatever calls are waiting (up to
``HUB_INBOUND_BATCH_SIZE``) as soon as the previous batch committed, so under load a batch
gathers the calls that arrived during the last commit and an idle server writes a lone call at
once. ``HUB_INBOUND_BATCH_WRITER=false`` (the test settings) writes each call's batch of one
in the request thread, through the same code. Any database error fails the whole batch, which
rolls back: its calls are all sent down the one-call path, which answers each as it should
(503 when the database is down).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg import Pipeline

from deliveries.models import Delivery
from deliveries.routing import NeedsReservation, plan_routing
from deliveries.wakeup import CHANNEL, local_event
from leads.models import Lead
from leads.services import require
from logs.models import InboundCall, InboundStatus
from tenants.bulk import insert_json_sql

from . import actions, responses
from .calllog import CallRecord
from .models import InboundHandler
from .queries import lock_key
from .responses import JSON, Answer

logger = logging.getLogger(__name__)

SLOW = None  # what ``store`` answers for a call the one-call path has to store
WAIT_SECONDS = 60.0  # a request never waits longer than this for its batch

_LEADS = Lead._meta.db_table
_CALLS = InboundCall._meta.db_table
_EMAIL_LENGTH = Lead._meta.get_field("email").max_length
_PHONE_LENGTH = Lead._meta.get_field("phone").max_length


@dataclass(eq=False)
class Pending:
    """One call waiting for its batch: what to write, then (once ``done``) its outcome."""

    handler: InboundHandler
    record: CallRecord
    lead: Lead  # unsaved, routing planned; its id comes from the batch
    deliveries: list[Delivery]
    lock_key: int | None  # advisory lock of (handler, dedupe key) with a protection period
    dedupe_key: str | None
    since: datetime
    notify: bool  # the handler's notify action: a task once the lead is committed
    answer: Answer | None = None
    error: OperationalError | None = None
    stored: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def prepare(handler: InboundHandler, record: CallRecord, clean: dict) -> Pending | None:
    """The call as a batch entry, or None when the one-call path must store it.

    That is the case off PostgreSQL (the embedded SQLite default), for calls with a
    ``deliver`` action, and when routing reaches an endpoint with caps (reserved in the
    transaction by ``route_lead``). Raises ``leads.services.LeadInvalid`` when a required
    field is missing.
    """
    if connection.vendor != "postgresql":
        return None
    todo = actions.plan(handler.actions)
    if todo.deliver:
        return None
    require(handler.tenant_id, clean)
    lead = Lead(tenant_id=handler.tenant_id, campaign=handler.campaign, fields=clean)
    lead.sync_indexed()
    deliveries: list[Delivery] = []
    if todo.distribute:  # without it the lead stays "new", unrouted, as on the one-call path
        try:
            deliveries = plan_routing(lead, reserve=False).new
        except NeedsReservation:
            return None
    key = record.dedupe_key if handler.protection_period_seconds else None
    return Pending(
        handler=handler,
        record=record,
        lead=lead,
        deliveries=deliveries,
        lock_key=lock_key(handler.pk, key) if key is not None else None,
        dedupe_key=key,
        since=timezone.now() - timedelta(seconds=handler.protection_period_seconds),
        notify=bool(todo.notify),
    )


def store(pending: Pending) -> Answer | None:
    """Write the call with others waiting at the same time; its answer, or SLOW.

    Raises OperationalError when its batch did not commit within WAIT_SECONDS (the receiver
    answers 503). A batch that fails is never an error here: its calls come back as SLOW.
    """
    if settings.HUB_INBOUND_BATCH_WRITER:
        _writer().submit(pending)
    else:
        _write([pending])
    if pending.error is not None:
        raise pending.error
    return pending.answer


# --- one batch --------------------------------------------------------------------------------

# The NOTIFY (sent by PostgreSQL at COMMIT, not before) rides along when a call of the batch
# planned deliveries; should that call turn out to be a duplicate, the dispatcher wakes for
# nothing, which is harmless.
_LOCK_AND_IDS_SQL = (
    "SELECT (SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT DISTINCT k FROM unnest(%s::bigint[]) AS u(k) ORDER BY k) AS s), "
    f"ARRAY(SELECT nextval(pg_get_serial_sequence('{_LEADS}', 'id')) "
    "FROM generate_series(1, %s)), "
    "(SELECT pg_notify(%s, '') WHERE %s)"
)

# Per call, in order: the newest identical successful call inside its protection period
# (with what it answered), and whether a lead with its email or phone exists. The literal
# status matches the partial index inboundcall_dedupe (status = 'success').
_PRIOR_SQL = f"""
SELECT c.id, c.response_status, c.response_body, c.response_content_type, c.lead_id,
  (x.e <> '' AND EXISTS (SELECT 1 FROM {_LEADS} l WHERE l.tenant_id = x.t AND l.email = x.e))
  OR (x.p <> '' AND EXISTS (SELECT 1 FROM {_LEADS} l WHERE l.tenant_id = x.t AND l.phone = x.p))
FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::bigint[], %s::text[], %s::text[])
  WITH ORDINALITY AS x(h, k, s, t, e, p, n)
LEFT JOIN LATERAL (
  SELECT id, response_status, response_body, response_content_type, lead_id FROM {_CALLS}
  WHERE x.k IS NOT NULL AND handler_id = x.h AND dedupe_key = x.k
    AND status = '{InboundStatus.SUCCESS}' AND created_at >= x.s
  ORDER BY created_at DESC LIMIT 1
) c ON true
ORDER BY x.n
"""


def _write(batch: list[Pending]) -> None:
    """Store ``batch`` in one transaction and set every entry's outcome (never raises)."""
    try:
        with _transaction():
            rows = _lock_and_look(batch)
            after_commit = _insert(batch, rows)
        for callback in after_commit:
            # Run now after our COMMIT, or at the commit of an enclosing atomic block.
            transaction.on_commit(callback, robust=True)
    except DatabaseError as exc:
        logger.warning("inbound batch of %d failed, stored one by one: %s", len(batch), exc)
        _fall_back(batch)
    except Exception:
        # Deliberately broad: whatever broke, the batch rolled back and each call still gets
        # the one-call path's answer; a request must never hang on a writer that died.
        logger.exception("inbound batch of %d failed unexpectedly", len(batch))
        _fall_back(batch)
    finally:
        for pending in batch:
            pending.done.set()


@contextmanager
def _transaction() -> Iterator[None]:
    """The batch's transaction, in two round trips to PostgreSQL.

    psycopg's pipeline mode sends BEGIN with the look-up statements, and the inserts with
    the COMMIT, where one statement at a time would take seven. After each round trip the
    writer thread waits for PostgreSQL and then for the GIL, which the request threads hold
    most of the time. Inside an atomic block (the test settings write inline, in the test's
    transaction) it is a savepoint of that block, without pipelining.
    """
    if connection.in_atomic_block or not Pipeline.is_supported():
        with transaction.atomic():
            yield
        return
    connection.ensure_connection()
    raw = connection.connection
    # psycopg's errors (at the final sync, for the inserts) arrive as django.db exceptions.
    with connection.wrap_database_errors, raw.pipeline(), raw.transaction():
        yield


def _fall_back(batch: list[Pending]) -> None:
    for pending in batch:
        pending.answer, pending.stored = SLOW, False


def _lock_and_look(batch: list[Pending]) -> list[tuple]:
    """Take the locks and the lead ids, then look every call up (one round trip: two
    cursors, so both statements are sent before the first answer is read)."""
    locks = [p.lock_key for p in batch if p.lock_key is not None]
    notify = any(p.deliveries for p in batch)
    with connection.cursor() as first, connection.cursor() as second:
        first.execute(_LOCK_AND_IDS_SQL, [locks, len(batch), CHANNEL, notify])
        second.execute(
            _PRIOR_SQL,
            [
                [p.handler.pk for p in batch],
                [p.dedupe_key for p in batch],
                [p.since for p in batch],
                [p.lead.tenant_id for p in batch],
                [p.lead.email[:_EMAIL_LENGTH] for p in batch],
                [p.lead.phone[:_PHONE_LENGTH] for p in batch],
            ],
        )
        ids = first.fetchone()[1]
        found = second.fetchall()
    for pending, lead_id in zip(batch, ids, strict=True):
        pending.lead.pk = lead_id
    return found


def _insert(batch: list[Pending], rows: list[tuple]) -> list[Callable[[], None]]:
    """Decide each call from its look-up row, then send the inserts (their errors arrive
    at the COMMIT); returns what to run once the batch committed."""
    calls: list[InboundCall] = []
    seen: set = set()
    for pending, (original, status, body, ctype, original_lead, exists) in zip(
        batch, rows, strict=True
    ):
        if original is not None:
            pending.answer = Answer(status, body, ctype or JSON)
            calls.append(
                pending.record.row(InboundStatus.DUPLICATE, pending.answer, lead_id=original_lead)
            )
            continue
        claims = _claims(pending)
        if exists or claims & seen:
            pending.answer = SLOW  # an update, or a duplicate of this very batch
            continue
        seen |= claims
        pending.stored = True
    stored = [p for p in batch if p.stored]
    statements = []
    after_commit: list[Callable[[], None]] = []
    if stored:
        # First, so the answers carry the created_at that pre_save gives the row.
        statements.append(insert_json_sql(Lead, [p.lead for p in stored], with_pk=True))
    for pending in stored:
        lead = pending.lead
        for delivery in pending.deliveries:
            delivery.lead_id = lead.pk
        pending.answer = responses.render(
            pending.handler.response,
            "accepted",
            responses.lead_context(lead.pk, lead.fields, lead.campaign_id, lead.created_at),
            201,
        )
        calls.append(pending.record.row(InboundStatus.SUCCESS, pending.answer, lead_id=lead.pk))
        if pending.notify:
            after_commit.append(partial(actions.enqueue_notify, lead.pk, pending.handler.pk, True))
    deliveries = [d for p in stored for d in p.deliveries]
    if deliveries:
        statements.append(insert_json_sql(Delivery, deliveries))
        after_commit.append(local_event().set)
    if calls:
        statements.append(insert_json_sql(InboundCall, calls))
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    return after_commit


def _claims(pending: Pending) -> set[tuple]:
    """What a second call of the same batch must not share with this one to be stored
    alongside it: the dedupe key, and the email and phone (create-or-update)."""
    lead = pending.lead
    claims = {("email", lead.tenant_id, lead.email), ("phone", lead.tenant_id, lead.phone)}
    if pending.dedupe_key:
        claims.add(("key", pending.handler.pk, pending.dedupe_key))
    return {claim for claim in claims if claim[2]}


# --- the writer thread ------------------------------------------------------------------------


class _Writer:
    """One per web process: its threads write the waiting calls in batches."""

    def __init__(self, max_batch: int, threads: int):
        self.max_batch = max_batch
        self.waiting: deque[Pending] = deque()
        self.wake = threading.Condition()
        # With more than one thread, one batch is written while another waits for its COMMIT.
        self.threads = [
            threading.Thread(target=self._run, name=f"inbound-batch-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, pending: Pending) -> None:
        with self.wake:
            self.waiting.append(pending)
            self.wake.notify()
        if not pending.done.wait(WAIT_SECONDS):
            # The batch is stuck (a lock held for a minute): the caller answers 503 and the
            # client retries; if the batch commits later, the retry is answered as a duplicate.
            pending.error = OperationalError("the inbound batch did not commit in time")

    def _run(self) -> None:
        while True:
            with self.wake:
                while not self.waiting:
                    self.wake.wait()
                batch = [
                    self.waiting.popleft() for _ in range(min(self.max_batch, len(self.waiting)))
                ]
            _write(batch)
            # What request_finished does for request threads: drop a broken or aged connection.
            connection.close_if_unusable_or_obsolete()


_writers: dict[int, _Writer] = {}
_writers_lock = threading.Lock()


def _writer() -> _Writer:
    """This process's writer (started on first use, so each forked worker has its own)."""
    pid = os.getpid()
    writer = _writers.get(pid)
    if writer is None:
        with _writers_lock:
            writer = _writers.get(pid)
            if writer is None:
                writer = _writers[pid] = _Writer(
                    settings.HUB_INBOUND_BATCH_SIZE, settings.HUB_INBOUND_BATCH_THREADS
                )
    return writer
