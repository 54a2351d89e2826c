"""Call-log benchmark: list-query latency and CSV export rate at 2,000,000 rows.

    python bench/logs_bench.py [--rows 2000000] [--fresh] [--iterations 40]

1. Creates (``--fresh``: recreates) the PostgreSQL database ``hub_bench_logs`` (override with
   BENCH_LOGS_DATABASE_URL), migrates it, and seeds it with ``seed_calllogs``: ROWS call logs
   for tenant "bench" over 90 days plus 10% as many for a second tenant, then VACUUM ANALYZE.
   An existing database with the right row counts is reused as it is.
2. Times ``GET /api/v1/call-logs/`` through Django's test client (the full stack: API-key
   auth, the FilterSet, the paginator, serialisation) for the date range alone and the date
   range plus each single filter; reports p50/p95/max per case and the plan PostgreSQL chose
   (index names from EXPLAIN of the FilterSet's page query).
3. Streams ``GET /api/v1/call-logs/export.csv`` (every row of the tenant) through the same
   client, counting rows, bytes, rows/s and the process's RSS before and at its peak.

Prints a table and writes ``bench/out/logs.json`` (rows in the harness's shape plus details).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "logs.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hub_bench_logs"
LIST_TARGET_MS = 100.0
EXPORT_TARGET_ROWS_S = 50_000.0
SCENARIO = "5 logs"


def configure(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "false"
    sys.path.insert(0, str(ROOT))


def ensure_database(url: str, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seed_if_needed(rows: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from logs.models import CallLog
    from tenants.models import Tenant

    tenants = {}
    for slug, count in (("bench", rows), ("noise", rows // 10)):
        tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
        tenants[slug] = tenant
        have = CallLog.objects.filter(tenant=tenant).count()
        if have != count:
            if have:
                CallLog.objects.filter(tenant=tenant).delete()
            began = time.perf_counter()
            call_command("seed_calllogs", str(count), "--tenant", slug, "--seed", str(len(slug)))
            print(
                f"[logs-bench] seeded {count:,} rows for {slug} in {time.perf_counter() - began:.0f}s"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE logs_calllog")
    return tenants


def pick_values(tenant, since: dt.datetime) -> dict:
    """Filter values that exist in the data (a busy and a quiet endpoint, a phone, terms)."""
    from django.db.models import Count

    from logs.models import CallLog

    recent = CallLog.objects.filter(tenant=tenant, created_at__gte=since)
    by_endpoint = list(
        recent.order_by().values_list("endpoint_id").annotate(n=Count("id")).order_by("-n")
    )
    phone = recent.order_by("-created_at").values_list("phone", flat=True)[5000]
    token = (
        recent.filter(outcome="accepted")
        .order_by("-created_at")
        .values_list("result", flat=True)[777]
        .rsplit("=", 1)[1]
    )
    return {
        "busy_endpoint": by_endpoint[0][0],
        "quiet_endpoint": by_endpoint[-1][0],
        "phone": phone,
        "token": token,
    }


def plan_of(tenant, params: dict) -> tuple[list[str], float]:
    """Index names in the plan of the FilterSet's first page, and its execution time (ms)."""
    from django.db import connection
    from django.test import RequestFactory

    from logs.filtersets import CallLogFilterSet
    from logs.models import CallLog

    request = RequestFactory().get("/", params)
    request.tenant = tenant
    filterset = CallLogFilterSet(request.GET, CallLog.objects.for_tenant(tenant), request=request)
    assert filterset.is_valid(), filterset.errors
    sql, sql_params = filterset.qs[:21].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, sql_params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    names: list[str] = []

    def walk(node):
        if node.get("Index Name"):
            names.append(f"{node['Node Type']} {node['Index Name']}")
        elif node.get("Node Type") == "Seq Scan":
            names.append("Seq Scan")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return names, plan[0]["Execution Time"]


def time_list_cases(client, tenant, values: dict, window: dict, iterations: int) -> list[dict]:
    cases = [
        ("date range only", {}),
        ("+ phone", {"phone": values["phone"]}),
        ("+ endpoint (busiest)", {"endpoint": values["busy_endpoint"]}),
        ("+ endpoint (quietest)", {"endpoint": values["quiet_endpoint"]}),
        ("+ outcome=error", {"outcome": "error"}),
        ("+ outcome=rejected", {"outcome": "rejected"}),
        ("+ test=true", {"test": "true"}),
        ("+ test=false", {"test": "false"}),
        ("+ q common (duplicate)", {"q": "duplicate"}),
        ("+ q rare (a buyer id)", {"q": values["token"]}),
        ("+ q rare, common trigrams", {"q": f"lead_id={values['token'][:4]}"}),
        ("+ q no match", {"q": "xyzzy"}),
        ("+ q short (ok)", {"q": "ok"}),
        ("date range, page_size=1000", {"page_size": "1000"}),
    ]
    informational = {"date range, page_size=1000"}
    results = []
    for name, extra in cases:
        params = {**window, **extra}
        for _ in range(3):
            assert client.get("/api/v1/call-logs/", params).status_code == 200
        timings = []
        for _ in range(iterations):
            began = time.perf_counter()
            response = client.get("/api/v1/call-logs/", params)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.content[:300]
        body = response.json()
        indexes, sql_ms = plan_of(tenant, {k: v for k, v in params.items() if k != "page_size"})
        timings.sort()
        results.append(
            {
                "case": name,
                "params": params,
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
                "max_ms": round(timings[-1], 1),
                "rows": len(body["results"]),
                "count": body["count"],
                "count_exact": body["count_exact"],
                "plan": indexes,
                "page_query_ms": round(sql_ms, 2),
                "single_filter_case": name not in informational,
            }
        )
        print(
            f"[logs-bench] {name:28} p50 {results[-1]['p50_ms']:7.1f} ms  "
            f"p95 {results[-1]['p95_ms']:7.1f} ms  {', '.join(indexes)}"
        )
    return results


def time_export(client, params: dict) -> dict:
    before = rss_mb()
    peak = before
    rows = -1  # the header line
    size = 0
    began, cpu_began = time.perf_counter(), time.process_time()
    response = client.get("/api/v1/call-logs/export.csv", params)
    assert response.status_code == 200
    for n, chunk in enumerate(response.streaming_content):
        size += len(chunk)
        rows += chunk.count(b"\n")  # seeded rows hold no line breaks inside fields
        if n % 200 == 0:
            peak = max(peak, rss_mb())
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    peak = max(peak, rss_mb())
    return {
        "params": params,
        "rows": rows,
        "bytes": size,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "client_cpu_s": round(cpu, 2),
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(peak - before, 1),
    }


def index_sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, pg_relation_size(indexname::regclass) FROM pg_indexes "
            "WHERE tablename = 'logs_calllog' ORDER BY indexname"
        )
        sizes = {name: round(size / 2**20, 1) for name, size in cursor.fetchall()}
        cursor.execute("SELECT pg_table_size('logs_calllog')")
        sizes["(table)"] = round(cursor.fetchone()[0] / 2**20, 1)
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_LOGS_DATABASE_URL", DEFAULT_URL)
    configure(url)
    ensure_database(url, args.fresh)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from tenants.models import ApiKey

    call_command("migrate", verbosity=0)
    tenants = seed_if_needed(args.rows)
    tenant = tenants["bench"]
    _, raw_key = ApiKey.issue(tenant, "logs-bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    since = timezone.now() - dt.timedelta(days=30)
    values = pick_values(tenant, since)
    since_day = since.date().isoformat()
    window = {
        "created_after": since_day,
        "created_before": (timezone.now() + dt.timedelta(days=1)).date().isoformat(),
    }
    lists = time_list_cases(client, tenant, values, window, args.iterations)
    export_all = time_export(client, {})
    print(
        f"[logs-bench] export: {export_all['rows']:,} rows in {export_all['seconds']}s = "
        f"{export_all['rows_per_s']:,} rows/s, RSS {export_all['rss_before_mb']} → "
        f"{export_all['rss_peak_mb']} MB"
    )
    export_month = time_export(client, window)

    single = [case for case in lists if case["single_filter_case"]]
    worst = max(single, key=lambda case: case["p95_ms"])
    rows = [
        {
            "scenario": SCENARIO,
            "metric": f"list p95 — {case['case']}",
            "value": case["p95_ms"],
            "unit": "ms",
            "target": f"< {LIST_TARGET_MS:.0f} ms" if case["single_filter_case"] else "",
            "met": case["p95_ms"] < LIST_TARGET_MS if case["single_filter_case"] else None,
            "note": f"p50 {case['p50_ms']} ms; plan: {', '.join(case['plan'])}",
        }
        for case in lists
    ]
    rows += [
        {
            "scenario": SCENARIO,
            "metric": "CSV export rate (all rows)",
            "value": export_all["rows_per_s"],
            "unit": "rows/s",
            "target": f">= {EXPORT_TARGET_ROWS_S:,.0f} rows/s",
            "met": export_all["rows_per_s"] >= EXPORT_TARGET_ROWS_S,
            "note": f"{export_all['rows']:,} rows, {export_all['bytes'] / 2**20:.0f} MB in "
            f"{export_all['seconds']} s",
        },
        {
            "scenario": SCENARIO,
            "metric": "CSV export peak RSS growth",
            "value": export_all["rss_growth_mb"],
            "unit": "MB",
            "target": "flat",
            "met": export_all["rss_growth_mb"] < 64,
            "note": f"RSS {export_all['rss_before_mb']} → {export_all['rss_peak_mb']} MB",
        },
    ]
    report = {
        "rows": rows,
        "method": "Django test client, full API stack, warm cache; p95 of "
        f"{args.iterations} requests per case after 3 warm-ups",
        "dataset": {"bench_rows": args.rows, "noise_rows": args.rows // 10, "days": 90},
        "list_cases": lists,
        "worst_list_case": worst["case"],
        "export_all": export_all,
        "export_last_30_days": export_month,
        "index_sizes_mb": index_sizes(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, default=str))

    print()
    print(f"{'metric':52} {'value':>12}  {'target':>16}  met")
    for row in rows:
        print(
            f"{row['metric'][:52]:52} {row['value']:>10,.1f} {row['unit']:<5}"
            f"{row['target']:>14}  {'' if row['met'] is None else 'yes' if row['met'] else 'NO'}"
        )
    print(f"\nwritten to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
