"""Realistic synthetic call logs in bulk, for benchmarks and demos.

Rows arrive in time order (as real traffic does, so ids and dates correlate), spread over the
last ``days`` days, across the tenant's endpoints, with a believable mix of outcomes, buyer
answers, durations and repeated phone numbers. PostgreSQL gets them through ``COPY … FROM
STDIN`` (psycopg 3), other databases through ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from .models import CallLog

# Columns written, in COPY order.
COLUMNS = (
    "tenant_id",
    "created_at",
    "endpoint_id",
    "attempt",
    "phone",
    "request",
    "response",
    "outcome",
    "result",
    "duration_ms",
    "test",
)

_AREA_CODES = (212, 305, 312, 404, 415, 512, 602, 617, 702, 206, 303, 615, 713, 919, 971)
_REJECTIONS = (
    "Duplicate lead",
    "Invalid zip code",
    "Phone number on DNC list",
    "State not serviced",
    "Lead too old",
    "Missing required field: email",
    "Daily cap reached",
    "Invalid phone number",
)
_ERRORS = (
    ("Timed out after 30s", None),
    ("Connection refused", None),
    ("HTTP 503 Service Unavailable", 503),
    ("HTTP 500 Internal Server Error", 500),
    ("HTTP 429 Too Many Requests", 429),
    ("HTTP 502 Bad Gateway", 502),
)
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Margaret")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Hamilton")


@dataclass(frozen=True)
class SeedEndpoint:
    id: int
    url: str


def ensure_endpoints(tenant, count: int) -> list[SeedEndpoint]:
    """The tenant's endpoints, creating ``Seed buyer N`` GET endpoints until there are ``count``."""
    Endpoint = apps.get_model("endpoints", "Endpoint")
    existing = list(Endpoint.objects.for_tenant(tenant).order_by("id").values_list("id", "url"))
    for n in range(len(existing), count):
        endpoint = Endpoint.objects.create(
            tenant=tenant,
            name=f"Seed buyer {n + 1}",
            method="GET",
            content_type="query",
            url=f"https://buyer-{n + 1}.example.com/api/leads",
            response_format="json",
        )
        existing.append((endpoint.pk, endpoint.url))
    return [SeedEndpoint(pk, url) for pk, url in existing[:count]]


def _phones(rng: random.Random, count: int) -> list[str]:
    return [
        f"+1{rng.choice(_AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        for _ in range(max(1, count))
    ]


def generate_rows(
    tenant_id: int,
    endpoints: Sequence[SeedEndpoint],
    count: int,
    *,
    days: int = 90,
    seed: int = 0,
    now: dt.datetime | None = None,
) -> Iterator[tuple]:
    """Yield ``count`` rows in ``COLUMNS`` order, oldest first, JSON columns as JSON text."""
    if not endpoints:
        raise ValueError("seeding needs at least one endpoint")
    rng = random.Random(seed)
    now = now or timezone.now()
    start = now - dt.timedelta(days=days)
    step = (now - start) / max(count, 1)
    # About three calls per phone: a lead broadcast to several buyers, plus retries.
    phones = _phones(rng, count // 3)
    dumps = json.dumps
    for i in range(count):
        created = start + step * i + dt.timedelta(milliseconds=rng.randint(0, 999))
        endpoint = endpoints[int(rng.paretovariate(1.2)) % len(endpoints)]
        phone = rng.choice(phones)
        roll = rng.random()
        attempt = 1
        if roll < 0.62:
            outcome, status = "accepted", 200
            result = f"OK lead_id={rng.randint(100000, 999999)}"
            body = dumps({"status": "ok", "id": rng.randint(100000, 999999)})
            duration = int(rng.lognormvariate(5.4, 0.5))
        elif roll < 0.90:
            outcome, status = "rejected", rng.choice((200, 400, 409, 422))
            result = rng.choice(_REJECTIONS)
            body = dumps({"status": "rejected", "reason": result})
            duration = int(rng.lognormvariate(5.2, 0.6))
        else:
            outcome = "error"
            result, status = rng.choice(_ERRORS)
            body = "" if status is None else f"<html>{result}</html>"
            attempt = rng.randint(1, 3)
            duration = 30000 if result.startswith("Timed out") else int(rng.lognormvariate(6, 1))
        url = (
            f"{endpoint.url}?first_name={rng.choice(_FIRST)}&last_name={rng.choice(_LAST)}"
            f"&phone=%2B{phone[1:]}&zip={rng.randint(10000, 99999)}&api_key=********"
        )
        request = dumps(
            {
                "method": "GET",
                "url": url,
                "headers": {"Idempotency-Key": f"{rng.getrandbits(64):016x}"},
                "body": "",
            }
        )
        response = dumps(
            {
                "status_code": status,
                "headers": {"Content-Type": "application/json"} if status else {},
                "body": body,
            }
        )
        test = rng.random() < 0.002
        yield (
            tenant_id,
            created,
            endpoint.id,
            attempt,
            phone,
            request,
            response,
            outcome,
            result,
            duration,
            test,
        )


def seed(
    tenant, count: int, *, endpoints: int = 12, days: int = 90, seed: int = 0, chunk: int = 5000
) -> int:
    """Insert ``count`` generated call logs for ``tenant``; return the number written."""
    targets = ensure_endpoints(tenant, endpoints)
    rows = generate_rows(tenant.pk, targets, count, days=days, seed=seed)
    if connection.vendor == "postgresql":
        _copy(rows)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(CallLog._meta.db_table)}")
    else:
        _bulk_create(rows, chunk)
    return count


def _copy(rows: Iterator[tuple]) -> None:
    table = connection.ops.quote_name(CallLog._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    # Django's cursor wrapper holds the psycopg 3 cursor, which speaks COPY.
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _bulk_create(rows: Iterator[tuple], chunk: int) -> None:
    batch: list[CallLog] = []
    with transaction.atomic():
        for row in rows:
            values = dict(zip(COLUMNS, row, strict=True))
            values["request"] = json.loads(values["request"])
            values["response"] = json.loads(values["response"])
            batch.append(CallLog(**values))
            if len(batch) >= chunk:
                CallLog.objects.bulk_create(batch)
                batch = []
        if batch:
            CallLog.objects.bulk_create(batch)
