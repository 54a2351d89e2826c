"""Inbound load: leads posted to a handler's ``/hooks/<token>`` at a steady rate, every answer
kept (status and lead id) so the run can check that no 2xx lacks a committed lead."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class Sent:
    """The answers one load run got, by the ``fault_id`` of each lead."""

    acked: dict[str, int] = field(default_factory=dict)  # fault_id → lead id of a 2xx
    statuses: Counter = field(default_factory=Counter)  # status code or error kind → count
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, fault_id: str, outcome: str | int, lead_id: int | None = None) -> None:
        with self._lock:
            self.statuses[outcome] += 1
            if lead_id is not None:
                self.acked[fault_id] = lead_id


def lead_body(fault_id: str, n: int, exchange: int) -> bytes:
    """A lead whose phone and email no other lead of the run has (leads are matched on them)."""
    return json.dumps(
        {
            "fault_id": fault_id,
            "first_name": "Fault",
            "email": f"{fault_id}@example.com",
            "phone": f"+1415{exchange:03d}{n % 10000:04d}",
        }
    ).encode()


def run(
    url: str, prefix: str, exchange: int, seconds: float, rate: float, workers: int = 4
) -> Sent:
    """Post ``rate`` leads a second to ``url`` for ``seconds``; answer what came back.

    ``exchange`` (200–999) keeps this run's phone numbers apart from other runs'.
    """
    sent = Sent()
    stop_at = time.monotonic() + seconds
    interval = workers / rate
    counter = iter(range(10**9))
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=10) as client:
            next_at = time.monotonic()
            while time.monotonic() < stop_at:
                with lock:
                    n = next(counter)
                fault_id = f"{prefix}-{n}"
                try:
                    response = client.post(
                        url,
                        content=lead_body(fault_id, n, exchange),
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.TimeoutException:
                    sent.record(fault_id, "timeout")
                except httpx.HTTPError:
                    sent.record(fault_id, "connection error")
                else:
                    lead_id = None
                    if 200 <= response.status_code < 300:
                        lead_id = response.json().get("lead_id")
                    sent.record(fault_id, response.status_code, lead_id)
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent
