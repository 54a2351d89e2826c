"""The issue's reference "naive Celery prefork worker": one task and one httpx POST per lead.

Each worker process reuses one ``httpx.Client`` (created lazily, after the fork): a bare
``httpx.post`` builds a new client and TLS context per call, which here costs ~50 ms and would
make the reference measure certificate loading instead of task overhead.
"""

from __future__ import annotations

import os

import httpx
from celery import shared_task

from leads.models import Lead

NAIVE_QUEUE = "bench_naive"
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=10, follow_redirects=False)
    return _client


@shared_task(name="bench.naive_post", queue=NAIVE_QUEUE, ignore_result=True)
def naive_post(lead_id: int) -> int:
    """Load the lead and POST its fields to the benchmark receiver; returns the status code."""
    lead = Lead.objects.get(pk=lead_id)
    url = os.environ.get("BENCH_NAIVE_URL", "http://127.0.0.1:18901/r/naive")
    return _http().post(url, json=lead.fields).status_code
