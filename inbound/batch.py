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

That is two round trips, each one script of statements: BEGIN with 1 and 2, then 3 with
COMMIT.

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

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import psycopg
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus

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
    record.freeze()
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
# nothing, which is harmless. The lock keys come as a bigint[] literal (integers only).
_LOCK_AND_IDS_SQL = (
    "SELECT (SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT DISTINCT k FROM unnest(%s::bigint[]) AS u(k) ORDER BY k) AS s), "
    f"ARRAY(SELECT nextval(pg_get_serial_sequence('{_LEADS}', 'id')) "
    "FROM generate_series(1, %s)), "
    "(SELECT pg_notify(%s, '') WHERE %s)"
)

# Per call, in order (one JSON document of {h, k, s, t, e, p}): the newest identical
# successful call inside its protection period (with what it answered), and whether a lead
# with its email or phone exists. The literal status matches the partial index
# inboundcall_dedupe (status = 'success'). Every look-up is a LATERAL join, always one index
# probe per call: the planner guesses 100 rows for json_to_recordset, and for that many an
# EXISTS may become a hashed subplan that reads every lead of the tenant on each batch
# (measured: PostgreSQL's CPU per batch grew with the table during the benchmark).
_PRIOR_SQL = f"""
SELECT c.id, c.response_status, c.response_body, c.response_content_type, c.lead_id,
  e.found IS NOT NULL OR p.found IS NOT NULL
FROM ROWS FROM (
  json_to_recordset(%s::json) AS (h bigint, k text, s timestamptz, t bigint, e text, p text)
) WITH ORDINALITY AS x(h, k, s, t, e, p, n)
LEFT JOIN LATERAL (
  SELECT id, response_status, response_body, response_content_type, lead_id FROM {_CALLS}
  WHERE x.k IS NOT NULL AND handler_id = x.h AND dedupe_key = x.k
    AND status = '{InboundStatus.SUCCESS}' AND created_at >= x.s
  ORDER BY created_at DESC LIMIT 1
) c ON true
LEFT JOIN LATERAL (
  SELECT true AS found FROM {_LEADS} WHERE x.e <> '' AND tenant_id = x.t AND email = x.e LIMIT 1
) e ON true
LEFT JOIN LATERAL (
  SELECT true AS found FROM {_LEADS} WHERE x.p <> '' AND tenant_id = x.t AND phone = x.p LIMIT 1
) p ON true
ORDER BY x.n
"""


def _write(batch: list[Pending]) -> None:
    """Store ``batch`` in one transaction and set every entry's outcome (never raises)."""
    try:
        with _transaction() as own, _script_cursor() as cursor:
            rows = _lock_and_look(cursor, batch, begin=own)
            after_commit = _insert(cursor, batch, rows, commit=own)
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
def _transaction() -> Iterator[bool]:
    """The batch's transaction; yields whether the batch sends its own BEGIN and COMMIT.

    Its own, it travels as two scripts of statements (``_script_cursor``): BEGIN with the
    look-ups, then the inserts with the COMMIT. That is two round trips, as psycopg's
    pipeline mode took, for less Python: 0.96 against 1.14 ms of CPU per batch of eight,
    and in the benchmark 1,500 against 1,370 leads/s. PostgreSQL parses and plans a script
    on each run (about 0.25 ms per batch), as a script cannot use prepared statements.
    Inside an atomic block (the test settings write inline, in the test's transaction) the
    batch is a savepoint of that block instead.
    """
    if connection.in_atomic_block or not connection.get_autocommit():
        with transaction.atomic():
            yield False
        return
    try:
        yield True
    except BaseException:
        _roll_back()
        raise


def _roll_back() -> None:
    """End a batch transaction that failed half-way, so the connection can be used again."""
    raw = connection.connection
    if raw is None or raw.closed or raw.info.transaction_status == TransactionStatus.IDLE:
        return
    try:
        raw.execute("ROLLBACK")
    except psycopg.Error as exc:
        # The connection is broken: Django replaces it (close_if_unusable_or_obsolete).
        logger.warning("inbound batch: ROLLBACK failed: %s", exc)


@contextmanager
def _script_cursor() -> Iterator[CursorWrapper]:
    """A cursor that binds on the client, so several statements go as one script.

    The connection binds on the server (prepared statements for the ORM's queries), and a
    server-bound statement must travel alone. Wrapped as ``connection.cursor()`` wraps its
    cursors: database errors arrive as django.db exceptions and tests count the scripts.
    """
    connection.ensure_connection()
    raw = ClientCursor(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with cursor:
        yield cursor


def _fall_back(batch: list[Pending]) -> None:
    for pending in batch:
        pending.answer, pending.stored = SLOW, False


def _lock_and_look(cursor: CursorWrapper, batch: list[Pending], *, begin: bool) -> list[tuple]:
    """Take the locks and the lead ids, then look every call up: one script."""
    locks = "{" + ",".join(str(p.lock_key) for p in batch if p.lock_key is not None) + "}"
    notify = any(p.deliveries for p in batch)
    calls = [
        {
            "h": p.handler.pk,
            "k": p.dedupe_key,
            "s": p.since.isoformat(),
            "t": p.lead.tenant_id,
            "e": p.lead.email[:_EMAIL_LENGTH],
            "p": p.lead.phone[:_PHONE_LENGTH],
        }
        for p in batch
    ]
    script = ("BEGIN; " if begin else "") + _LOCK_AND_IDS_SQL + "; " + _PRIOR_SQL
    cursor.execute(
        script,
        [locks, len(batch), CHANNEL, notify, json.dumps(calls, separators=(",", ":"))],
    )
    if begin:
        cursor.nextset()  # BEGIN's empty result
    ids = cursor.fetchone()[1]
    cursor.nextset()
    found = cursor.fetchall()
    for pending, lead_id in zip(batch, ids, strict=True):
        pending.lead.pk = lead_id
    return found


def _insert(
    cursor: CursorWrapper, batch: list[Pending], rows: list[tuple], *, commit: bool
) -> list[Callable[[], None]]:
    """Decide each call from its look-up row, then send the inserts (and the COMMIT) as one
    script; returns what to run once the batch committed."""
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
    script = [sql for sql, _ in statements] + (["COMMIT"] if commit else [])
    if script:
        cursor.execute("; ".join(script), [param for _, params in statements for param in params])
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
