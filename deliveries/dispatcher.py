"""Claiming due deliveries and handing them to workers.

PostgreSQL is the source of truth; a Celery message is only a hint. A delivery is *due* while it
is open (pending/retrying), its ``next_attempt_at`` has passed and nobody holds a live lease on
it. ``claim_due`` takes a lease on a batch of due deliveries in one statement (``FOR UPDATE SKIP
LOCKED``: concurrent dispatchers never claim the same row); ``dispatch_due`` sends one
``send_batch`` task per claimed batch. If that message is lost (Redis flushed or restarted) or
the worker dies mid-call, the lease simply runs out and the next ``dispatch_due`` — run on every
wakeup by the dispatcher loop and every 5 s by the beat task ``deliveries.sweep`` — claims the
delivery again. Hence at-least-once delivery; buyers de-duplicate with ``Idempotency-Key``,
which is the delivery's ``key`` on every attempt.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime, timedelta

import psycopg
import redis
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError

from .models import OPEN_STATUSES, Delivery
from .wakeup import CHANNEL, listener, local_event

logger = logging.getLogger("hub.deliveries")

# The loop dispatches at least this often even without a wakeup: retries come due by the clock.
POLL_SECONDS = 1.0
# One dispatch_due call claims at most this many batches, so one busy call cannot starve the
# loop's other duties (and an eager, in-process send applies back-pressure batch by batch).
MAX_BATCHES_PER_CALL = 50
# Back-pressure: claim nothing more while this many send_batch tasks wait in the broker.
MAX_QUEUED_BATCHES = 20

_CLAIM_SQL = f"""
UPDATE {Delivery._meta.db_table} SET lease_until = statement_timestamp() + make_interval(secs => %s)
WHERE id IN (
    SELECT id FROM {Delivery._meta.db_table}
    WHERE status IN ('pending', 'retrying')
      AND next_attempt_at <= statement_timestamp()
      AND (lease_until IS NULL OR lease_until < statement_timestamp())
    ORDER BY next_attempt_at
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
RETURNING id, lease_until
"""


def lease_seconds() -> int:
    return int(settings.HUB_DELIVERY_LEASE_SECONDS)


def claim_due(limit: int) -> tuple[list[int], datetime | None]:
    """Lease up to ``limit`` due deliveries; answer their ids and the lease's end (the claim).

    Every row of one claim shares the same ``lease_until``, which later statements use as the
    claim's token: a worker sends and records a delivery only while its lease is still this one.
    """
    if connection.vendor == "postgresql":
        # Prepared after a few runs (HUB_DB_PREPARE_THRESHOLD): it runs on every wakeup.
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [lease_seconds(), limit])
            rows = cursor.fetchall()
        if not rows:
            return [], None
        return sorted(row[0] for row in rows), rows[0][1]
    return _claim_due_orm(limit)


def _claim_due_orm(limit: int) -> tuple[list[int], datetime | None]:
    """The same claim for SQLite (embedded mode): its write lock serialises claimers."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=lease_seconds())
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
            .exclude(lease_until__gte=now)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return [], None
        Delivery.objects.filter(id__in=ids).update(lease_until=lease_until)
    return sorted(ids), lease_until


def dispatch_due(batch_size: int | None = None) -> int:
    """Claim due deliveries batch by batch and enqueue one ``send_batch`` task per batch.

    Answers how many deliveries were dispatched. Must run outside a transaction: a claim has to
    be committed before a worker can see it. Claims no more than the workers can soon take:
    while MAX_QUEUED_BATCHES tasks already wait in the broker, deliveries stay unclaimed in the
    database (a lease must not run out while its message is still queued).
    """
    from .tasks import send_batch

    batch_size = batch_size or settings.HUB_DELIVERY_BATCH_SIZE
    room = min(MAX_BATCHES_PER_CALL, MAX_QUEUED_BATCHES - queued_batches())
    total = 0
    for _ in range(room):
        ids, lease_until = claim_due(batch_size)
        if not ids:
            break
        send_batch.delay(ids, lease_until.isoformat())
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total


_broker = None


def queued_batches() -> int:
    """Tasks waiting in the broker's default queue (0 when tasks run in-process or unknown)."""
    global _broker
    from .tasks import send_batch

    app = send_batch.app
    url = str(app.conf.broker_url or "")
    if app.conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return 0
    try:
        if _broker is None:
            _broker = redis.Redis.from_url(url, socket_timeout=2)
        return int(_broker.llen(app.conf.task_default_queue))
    except (RedisError, OSError):
        logger.warning("cannot read the broker's queue length; dispatching anyway")
        _broker = None
        return 0


class Dispatcher:
    """The dispatch loop: wake on NOTIFY (or the in-process event), and poll every second."""

    def __init__(self, poll_seconds: float = POLL_SECONDS):
        self.poll_seconds = poll_seconds
        self.stop_event = threading.Event()
        self._listener = None

    def stop(self) -> None:
        self.stop_event.set()
        local_event().set()

    def run(self) -> None:
        """Loop until ``stop()``; never dies of a database hiccup."""
        logger.info("delivery dispatcher started")
        try:
            while not self.stop_event.is_set():
                self._dispatch_once()
                self._wait()
        finally:
            self._close_listener()
            close_old_connections()
            connection.close()
            logger.info("delivery dispatcher stopped")

    def _dispatch_once(self) -> None:
        # A connection can break under us (database restart, a forked pool child tearing down
        # the copy it inherited): drop broken or stale ones before every round.
        close_old_connections()
        try:
            count = dispatch_due()
        except DatabaseError:
            logger.exception("dispatch failed; retrying on the next round")
            connection.close()
            return
        except Exception:  # the loop must outlive any one round (eager sends run in it)
            logger.exception("dispatch failed; retrying on the next round")
            return
        if count:
            logger.debug("dispatched %d deliveries", count)

    def _wait(self) -> None:
        if connection.vendor != "postgresql":
            event = local_event()
            event.wait(self.poll_seconds)
            event.clear()
            return
        listener = self._listen()
        if listener is None:
            self.stop_event.wait(self.poll_seconds)
            return
        try:
            self._wait_for_notify(listener)
        except (psycopg.Error, OSError):  # reconnect on the next round
            logger.warning("LISTEN connection lost; reconnecting", exc_info=True)
            self._close_listener()

    def _wait_for_notify(self, listener) -> None:
        """Return on a notification, after ``poll_seconds``, or soon after ``stop()``."""
        deadline = time.monotonic() + self.poll_seconds
        while not self.stop_event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if any(True for _ in listener.notifies(timeout=min(left, 0.5), stop_after=1)):
                # One is enough; gather what arrives in the next few milliseconds too, so a
                # steady trickle of leads is sent in batches of several, not one by one (each
                # batch costs a claim, a task and a recorder transaction).
                gather = settings.HUB_DISPATCH_GATHER_MS / 1000
                if gather > 0:
                    time.sleep(gather)
                for _ in listener.notifies(timeout=0, stop_after=1000):
                    pass
                return

    def _listen(self):
        """A dedicated autocommit connection LISTENing on the wakeup channel (or None)."""
        if self._listener is not None and not self._listener.closed:
            return self._listener
        try:
            conn = listener()
        except psycopg.Error:
            logger.warning("cannot LISTEN on %s; polling instead", CHANNEL, exc_info=True)
            return None
        self._listener = conn
        return conn

    def _close_listener(self) -> None:
        if self._listener is not None:
            # A broken connection may fail to close; there is nothing left to release then.
            with contextlib.suppress(psycopg.Error, OSError):
                self._listener.close()
            self._listener = None


class DispatcherThread(threading.Thread):
    """The dispatcher loop in a daemon thread (a Celery worker's main process, or the web)."""

    def __init__(self, poll_seconds: float = POLL_SECONDS):
        super().__init__(name="delivery-dispatcher", daemon=True)
        self.dispatcher = Dispatcher(poll_seconds)

    def run(self) -> None:
        self.dispatcher.run()

    def stop(self, timeout: float = 5.0) -> None:
        self.dispatcher.stop()
        self.join(timeout)


def run_dispatcher(stop_event: threading.Event | None = None) -> None:
    """Run the dispatcher loop in the calling thread (``manage.py run_dispatcher``)."""
    dispatcher = Dispatcher()
    if stop_event is not None:
        dispatcher.stop_event = stop_event
    dispatcher.run()


_embedded_lock = threading.Lock()
_embedded: DispatcherThread | None = None


def start_dispatcher_thread() -> DispatcherThread:
    thread = DispatcherThread()
    thread.start()
    return thread


def start_embedded_engine() -> DispatcherThread | None:
    """Start the in-process dispatcher once, if settings.HUB_EMBEDDED_ENGINE (``make run``).

    Without REDIS_URL Celery runs tasks eagerly, so ``send_batch`` executes right in this
    thread and hands deliveries to this process's engine: the same code path as a worker.
    """
    global _embedded
    if not settings.HUB_EMBEDDED_ENGINE:
        return None
    with _embedded_lock:
        if _embedded is None or not _embedded.is_alive():
            _embedded = start_dispatcher_thread()
    return _embedded
