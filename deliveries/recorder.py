"""Recording attempts: call logs and delivery states written together, in batches.

Every state change the engine makes goes through ``record()``: one transaction per batch that
(1) moves each delivery to its next state with one statement, guarded by the claim (the
``lease_until`` it was claimed with) and by the delivery still being open — so a delivery whose
lease ran out and was claimed by another worker, or that an operator canceled meanwhile, is not
recorded twice; (2) bulk-inserts a CallLog for every call that was made (a call that happened
is logged even when its state change lost that race); (3) hands the deliveries that reached a
final state to ``deliveries.routing.follow_up`` (waterfall, pipeline, captures, caps).

``Recorder`` is the thread that batches: results arrive from the engine's event loop and are
flushed every ~50 ms or every ``max_batch`` results, on the recorder's own DB connection.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from logs.models import CallLog

from . import policy
from .models import FINAL_STATUSES, OPEN_STATUSES, Delivery, Status
from .wakeup import notify_new_deliveries

logger = logging.getLogger("hub.deliveries")

FLUSH_SECONDS = 0.05
MAX_BATCH = 500
INACTIVE = "endpoint inactive"


@dataclass
class Outcome:
    """One thing that happened to a claimed delivery, waiting to be recorded.

    Exactly one of: ``result`` (a call was made), ``cancel`` (a reason; no call), or
    ``release_until`` (not sent — hand it back, due again at that time; no attempt counted).
    """

    delivery: Delivery
    claim: datetime
    result: object | None = None  # endpoints.client.CallResult
    cancel: str = ""
    release_until: datetime | None = None
    at: datetime | None = None


@dataclass
class _Row:
    outcome: Outcome
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    captured: dict


def json_safe(value):
    """``value`` with NaN and ±Infinity (which Python's json reads but jsonb refuses) as None.

    A buyer answering ``{"id": NaN}`` must not make its delivery impossible to record — it
    would be sent again at every lease, forever.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def strict_dumps(value) -> str:
    """JSON that PostgreSQL's jsonb accepts (non-finite numbers become null)."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(json_safe(value), allow_nan=False)


def _plan(outcome: Outcome, now: datetime, rng: random.Random | None) -> _Row:
    d = outcome.delivery
    if outcome.result is not None:
        step = policy.transition(
            outcome.result,
            attempts=d.attempts + 1,
            attempts_base=d.attempts_base,
            policy=d.endpoint.retry_policy,
            captured=d.captured,
            now=now,
            rng=rng,
        )
        return _Row(
            outcome,
            step.status,
            d.attempts + 1,
            step.next_attempt_at,
            step.last_error,
            json_safe(step.captured),
        )
    if outcome.cancel:
        return _Row(outcome, Status.CANCELED, d.attempts, None, outcome.cancel, d.captured)
    return _Row(outcome, d.status, d.attempts, outcome.release_until, d.last_error, d.captured)


def record(outcomes: list[Outcome], *, rng: random.Random | None = None) -> list[Delivery]:
    """Record ``outcomes`` in one transaction; answer the deliveries that became final.

    Call inside no transaction of your own if you want the write to be durable on return.
    """
    if not outcomes:
        return []
    now = timezone.now()
    rows = [_plan(o, now, rng) for o in outcomes]
    with transaction.atomic():
        applied = _update_states(rows, now)
        _insert_call_logs(rows, applied)
        finals = _finals(rows, applied)
        if finals:
            run_follow_up(finals)
    return finals


def _update_states(rows: list[_Row], now: datetime) -> set[int]:
    """Apply each row's new state where the claim still holds; answer the ids applied."""
    if connection.vendor == "postgresql":
        return _update_states_pg(rows)
    applied = set()
    for row in rows:
        d = row.outcome.delivery
        count = Delivery.objects.filter(
            pk=d.pk, lease_until=row.outcome.claim, status__in=OPEN_STATUSES
        ).update(
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            captured=row.captured,
            lease_until=None,
            updated_at=now,
        )
        if count:
            applied.add(d.pk)
    return applied


def _update_states_pg(rows: list[_Row]) -> set[int]:
    table = Delivery._meta.db_table
    values = ", ".join(
        ["(%s::bigint, %s::timestamptz, %s, %s::integer, %s::timestamptz, %s, %s::jsonb)"]
        * len(rows)
    )
    params: list = []
    for row in rows:
        params += [
            row.outcome.delivery.pk,
            row.outcome.claim,
            row.status,
            row.attempts,
            row.next_attempt_at,
            row.last_error,
            strict_dumps(row.captured),
        ]
    sql = f"""
        UPDATE {table} AS d SET
            status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
            last_error = v.last_error, captured = v.captured, lease_until = NULL,
            updated_at = statement_timestamp()
        FROM (VALUES {values}) AS v(id, claim, status, attempts, next_attempt_at, last_error,
                                   captured)
        WHERE d.id = v.id AND d.lease_until = v.claim AND d.status IN ('pending', 'retrying')
        RETURNING d.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {r[0] for r in cursor.fetchall()}


_LOG_COLUMNS = (
    "tenant_id",
    "created_at",
    "endpoint_id",
    "lead_id",
    "delivery_id",
    "attempt",
    "phone",
    "request",
    "response",
    "outcome",
    "result",
    "duration_ms",
    "test",
)
_JSON_COLUMNS = frozenset({"request", "response"})


def _insert_call_logs(rows: list[_Row], applied: set[int]) -> None:
    values = []
    for row in rows:
        result = row.outcome.result
        if result is None:
            continue
        d = row.outcome.delivery
        if d.pk not in applied:
            logger.warning(
                "delivery %s: attempt %s made but its claim was lost; logged, state untouched",
                d.pk,
                row.attempts,
            )
        values.append(
            {
                "tenant_id": d.tenant_id,
                "created_at": row.outcome.at or timezone.now(),
                "endpoint_id": d.endpoint_id,
                "lead_id": d.lead_id,
                "delivery_id": d.pk,
                "attempt": row.attempts,
                "phone": (d.lead.phone or "")[:32],
                "request": result.request,
                "response": result.response,
                "outcome": result.outcome,
                "result": result.result or "",
                "duration_ms": max(int(result.duration_ms or 0), 0),
                "test": False,
            }
        )
    if not values:
        return
    if connection.vendor == "postgresql":
        _copy_call_logs(values)
    else:
        CallLog.objects.bulk_create([CallLog(**v) for v in values])


def _copy_call_logs(values: list[dict]) -> None:
    """COPY the rows in: several times cheaper than a bulk INSERT's parameter quoting."""
    from psycopg.types.json import Jsonb

    columns = ", ".join(CallLog._meta.get_field(c.removesuffix("_id")).column for c in _LOG_COLUMNS)
    sql = f"COPY {CallLog._meta.db_table} ({columns}) FROM STDIN"
    # The raw psycopg cursor's errors are wrapped so callers see django.db exceptions.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        for v in values:
            copy.write_row(
                [Jsonb(v[c], strict_dumps) if c in _JSON_COLUMNS else v[c] for c in _LOG_COLUMNS]
            )


def _finals(rows: list[_Row], applied: set[int]) -> list[Delivery]:
    finals = []
    for row in rows:
        d = row.outcome.delivery
        if d.pk in applied:
            d.status = row.status
            d.attempts = row.attempts
            d.next_attempt_at = row.next_attempt_at
            d.last_error = row.last_error
            d.captured = row.captured
            d.lease_until = None
            if row.status in FINAL_STATUSES:
                finals.append(d)
    return finals


def run_follow_up(finals: list[Delivery]) -> None:
    """Run routing's follow-up for final deliveries, inside the recording transaction.

    A failing follow-up is logged and rolled back to its savepoint rather than undoing the
    recorded states: otherwise the deliveries would be sent to the buyer again and again.
    """
    from . import routing

    follow_up = getattr(routing, "follow_up", None)
    if follow_up is None:
        return
    try:
        with transaction.atomic():
            created = follow_up(finals)
            if created:
                notify_new_deliveries()
    except Exception:  # routing is another module's code; never let it undo a recorded send
        logger.exception("follow_up failed for deliveries %s", [d.pk for d in finals])


class Recorder(threading.Thread):
    """Collects outcomes from any thread and records them in batches on its own connection."""

    def __init__(self, flush_seconds: float = FLUSH_SECONDS, max_batch: int = MAX_BATCH):
        super().__init__(name="delivery-recorder", daemon=True)
        self.flush_seconds = flush_seconds
        self.max_batch = max_batch
        self._queue: queue.Queue[Outcome | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Condition()
        self._stopping = False

    def put(self, outcome: Outcome) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(outcome)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything put so far is recorded (or dropped); False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Record what is queued, then end the thread."""
        self._stopping = True
        self._queue.put(None)
        self.join(timeout)

    def run(self) -> None:
        try:
            while True:
                batch, stop = self._collect()
                if batch:
                    self._flush(batch)
                if stop:
                    return
        finally:
            connection.close()

    def _collect(self) -> tuple[list[Outcome], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self.flush_seconds
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _flush(self, batch: list[Outcome]) -> None:
        try:
            self._write(batch)
        finally:
            with self._lock:
                self._pending -= len(batch)
                self._lock.notify_all()

    def _write(self, batch: list[Outcome]) -> None:
        for attempt in range(5):
            try:
                record(batch)
                return
            except (OperationalError, InterfaceError):
                # The database went away: reconnect and try again. If it stays away the
                # leases run out and the deliveries are sent again (at-least-once).
                logger.warning("recording %d outcomes failed; retrying", len(batch), exc_info=True)
                connection.close()
                time.sleep(min(0.2 * 2**attempt, 3))
            except Exception:  # the recorder thread must survive anything one batch does
                # A bad row (it should not happen) must not sink its batch-mates.
                logger.exception("recording a batch failed; recording one by one")
                self._write_each(batch)
                return
        logger.error("dropped %d outcomes after retries; their leases will expire", len(batch))

    def _write_each(self, batch: list[Outcome]) -> None:
        for outcome in batch:
            try:
                record([outcome])
            except Exception:  # logged; its lease expires and the delivery is claimed again
                logger.exception("cannot record delivery %s", outcome.delivery.pk)
