"""The delivery engine of one process: concurrent sends, per-endpoint limits, batched records.

One ``Engine`` per process (a Celery pool child, or the web process in embedded mode) runs an
asyncio event loop in a daemon thread with one aiohttp session. ``send_batch`` hands it claimed
deliveries and returns as soon as they are handed over — it never waits for a buyer's answer,
only for room (at most ``max_in_flight`` deliveries per process: back-pressure).

- No head-of-line blocking: each endpoint has its own ``asyncio.Semaphore``
  (HUB_ENDPOINT_CONCURRENCY), so a buyer that hangs until its timeout only holds its own slots.
  A delivery that would have to queue behind a slow endpoint for longer than
  ``max_queue_wait`` is not held in memory: it is handed back to the database, due again later.
- ``rate_limit_per_second`` is a token bucket per endpoint (Redis-backed across processes).
- A call starts only if it can finish inside the delivery's lease; otherwise the delivery is
  handed back unsent, so an expired lease never leads to two workers calling at once.
- Every outcome goes to the ``Recorder`` thread, which writes call logs and states in batches.

``send_now`` is the synchronous single call of the endpoint Test panel and API.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from logs.models import CallLog

from .dispatcher import lease_seconds
from .recorder import Outcome, Recorder

logger = logging.getLogger("hub.deliveries")

MAX_IN_FLIGHT = 2000
# A call must be able to finish this long before its lease ends (recording takes a moment).
LEASE_MARGIN_SECONDS = 1.0
# Longest a delivery may wait in memory for its endpoint's slots before being handed back.
MAX_QUEUE_WAIT_SECONDS = 30.0
# A delivery handed back unsent (its endpoint is backed up, or the process is stopping) is due
# again after its expected wait, within these bounds; then it is claimed and judged afresh.
RELEASE_DELAY_SECONDS = 1.0
MAX_HAND_BACK_SECONDS = 60.0


@dataclass
class Job:
    """A claimed delivery on its way to the buyer."""

    delivery: object  # deliveries.models.Delivery with .lead and .endpoint loaded
    claim: datetime  # the lease it was claimed with
    deadline: float  # time.monotonic() at which the lease ends
    started: bool = False


@dataclass
class _EndpointState:
    semaphore: asyncio.Semaphore
    waiting: int = 0
    active: dict[int, float] = field(default_factory=dict)  # id(job) -> monotonic start
    average: float = 0.0  # moving average of call durations, seconds

    def expected_duration(self, now: float) -> float:
        """Seconds a call takes here: the average, or longer if calls are running longer."""
        oldest = min(self.active.values(), default=now)
        return max(self.average, now - oldest)

    def observe(self, seconds: float) -> None:
        self.average = seconds if not self.average else 0.8 * self.average + 0.2 * seconds


class _Slots:
    """A counting limit on deliveries in flight, waited on by the handing-over thread."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self._cond = threading.Condition()

    def acquire(self, n: int) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.used == 0 or self.used + n <= self.limit)
            self.used += n

    def release(self, n: int = 1) -> None:
        with self._cond:
            self.used -= n
            self._cond.notify_all()

    def wait_empty(self, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.used == 0, timeout)


class Engine:
    """Sends claimed deliveries concurrently; one per process (see ``get_engine``)."""

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_queue_wait: float = MAX_QUEUE_WAIT_SECONDS,
        redis_url: str | None = None,
    ):
        from .ratelimit import RateLimiter

        self.concurrency = concurrency or settings.HUB_ENDPOINT_CONCURRENCY
        self.max_queue_wait = max_queue_wait
        self.slots = _Slots(max_in_flight)
        self.limiter = RateLimiter(redis_url if redis_url is not None else settings.REDIS_URL)
        self.recorder = Recorder()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.session = None
        self._thread: threading.Thread | None = None
        self._endpoints: dict[int, _EndpointState] = {}
        self._tasks: dict[asyncio.Task, Job] = {}
        self._start_lock = threading.Lock()
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            ready = threading.Event()
            self.loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._run_loop, args=(ready,), name="delivery-engine", daemon=True
            )
            self._thread.start()
            ready.wait()
            self.recorder.start()
            asyncio.run_coroutine_threadsafe(self._open_session(), self.loop).result()

    def _run_loop(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    async def _open_session(self) -> None:
        from endpoints.client import new_async_session

        self.session = new_async_session()

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until every handed-over delivery is sent and recorded; False on timeout."""
        start = time.monotonic()
        if not self.slots.wait_empty(timeout):
            return False
        left = None if timeout is None else max(timeout - (time.monotonic() - start), 0)
        return self.recorder.wait_idle(left)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop: hand waiting deliveries back, let running calls finish, record everything."""
        self._stopping = True
        if self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._cancel_waiting(), self.loop).result()
        if not self.slots.wait_empty(timeout):
            logger.warning("engine stopped with calls still running; their leases will expire")
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.recorder.stop()

    async def _cancel_waiting(self) -> None:
        for task, job in list(self._tasks.items()):
            if not job.started:
                task.cancel()

    async def _close(self) -> None:
        if self.session is not None:
            await self.session.close()
        await self.limiter.close()

    # -- handing over ----------------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> int:
        """Hand ``jobs`` over; block only while the process has no room. Answers how many
        were taken (the rest were handed back to the database, due again soon)."""
        if not jobs:
            return 0
        self.start()
        taken = 0
        size = max(min(50, self.slots.limit), 1)
        for i in range(0, len(jobs), size):
            chunk = jobs[i : i + size]
            self.slots.acquire(len(chunk))
            future = asyncio.run_coroutine_threadsafe(self._admit(chunk), self.loop)
            taken += future.result()
        return taken

    async def _admit(self, jobs: list[Job]) -> int:
        now = time.monotonic()
        taken = 0
        for job in jobs:
            endpoint = job.delivery.endpoint
            state = self._state(endpoint.pk)
            rounds_ahead = state.waiting // self.concurrency
            wait = rounds_ahead * state.expected_duration(now)
            if self._stopping or wait > self.max_queue_wait:
                self._hand_back(job, min(max(wait, RELEASE_DELAY_SECONDS), MAX_HAND_BACK_SECONDS))
                self.slots.release()
                continue
            state.waiting += 1
            task = self.loop.create_task(self._send(job, state))
            self._tasks[task] = job
            task.add_done_callback(self._forget)
            taken += 1
        return taken

    def _forget(self, task: asyncio.Task) -> None:
        self._tasks.pop(task, None)

    def _state(self, endpoint_id: int) -> _EndpointState:
        state = self._endpoints.get(endpoint_id)
        if state is None:
            state = self._endpoints[endpoint_id] = _EndpointState(
                asyncio.Semaphore(self.concurrency)
            )
        return state

    def _hand_back(self, job: Job, delay: float) -> None:
        """Release the claim without an attempt: the delivery is due again after ``delay``."""
        self.recorder.put(
            Outcome(
                job.delivery,
                job.claim,
                release_until=timezone.now() + timedelta(seconds=delay),
            )
        )

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, job: Job, state: _EndpointState) -> None:
        from endpoints.client import call_async

        delivery = job.delivery
        endpoint = delivery.endpoint
        waiting = True
        try:
            async with state.semaphore:
                state.waiting -= 1
                waiting = False
                await self.limiter.wait(endpoint.pk, endpoint.rate_limit_per_second)
                now = time.monotonic()
                if not _fits_lease(endpoint, job, now):
                    logger.info("delivery %s: lease too short to call; handed back", delivery.pk)
                    self._hand_back(job, 0)
                    return
                job.started = True
                started_at = timezone.now()
                state.active[id(job)] = now
                try:
                    result = await call_async(
                        self.session,
                        endpoint,
                        delivery.lead.fields,
                        idempotency_key=delivery.idempotency_key,
                        lead_id=delivery.lead_id,
                    )
                finally:
                    state.active.pop(id(job), None)
                state.observe(time.monotonic() - now)
            self.recorder.put(Outcome(delivery, job.claim, result=result, at=started_at))
        except asyncio.CancelledError:
            if not job.started:
                self._hand_back(job, 0)
            raise
        except Exception:  # call_async never raises; anything here is a bug: log, retry later
            logger.exception("delivery %s: sending failed", delivery.pk)
            self._hand_back(job, 60)
        finally:
            if waiting:
                state.waiting -= 1
            self.slots.release()


def _fits_lease(endpoint, job: Job, now: float) -> bool:
    """Can a call that starts now end (timeout included) before the job's lease does?

    If not even a fresh lease could hold the endpoint's timeout (a misconfiguration: raise
    HUB_DELIVERY_LEASE_SECONDS), the call goes ahead anyway rather than never being made.
    """
    needed = endpoint.timeout_seconds + LEASE_MARGIN_SECONDS
    if needed > lease_seconds():
        logger.warning(
            "endpoint %s: timeout %s s does not fit the %s s delivery lease",
            endpoint.pk,
            endpoint.timeout_seconds,
            lease_seconds(),
        )
        return True
    return now + needed <= job.deadline


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """This process's engine, created (not started) on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine


def reset_engine() -> None:
    """Forget the engine without stopping it: in a forked child its threads do not exist."""
    global _engine
    with _engine_lock:
        _engine = None


def shutdown_engine(timeout: float = 30.0) -> None:
    """Stop this process's engine gracefully (a worker child exiting, tests)."""
    global _engine
    with _engine_lock:
        engine, _engine = _engine, None
    if engine is not None:
        engine.shutdown(timeout)


def deadline_of(claim: datetime) -> float:
    """The monotonic time at which a lease ending at ``claim`` (wall clock) ends."""
    return time.monotonic() + (claim - timezone.now()).total_seconds()


def send_now(
    endpoint,
    *,
    lead=None,
    fields: Mapping | None = None,
    sandbox: bool | None = None,
    test: bool = True,
) -> CallLog:
    """Call ``endpoint`` once, now, with ``lead``'s fields (or ``fields``); log it and answer
    the CallLog. No delivery changes state. Used by the endpoint Test panel and API."""
    from endpoints.client import call_sync

    values = dict(lead.fields if lead is not None else fields or {})
    result = call_sync(
        endpoint,
        values,
        idempotency_key=str(uuid.uuid4()),
        lead_id=lead.pk if lead is not None else None,
        sandbox=sandbox,
    )
    phone = lead.phone if lead is not None else str(values.get("phone") or "")
    return CallLog.objects.create(
        tenant_id=endpoint.tenant_id,
        endpoint=endpoint,
        lead=lead,
        attempt=1,
        phone=phone[:32],
        request=result.request,
        response=result.response,
        outcome=result.outcome,
        result=result.result or "",
        duration_ms=max(int(result.duration_ms or 0), 0),
        test=test,
    )
