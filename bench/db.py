"""The benchmark's own database and Redis db: recreated, migrated and flushed on every run."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from .stack import ROOT


def maintenance_url(database_url: str) -> str:
    """The same server, database ``postgres`` (to drop and create the benchmark database)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def recreate(database_url: str, env: dict[str, str]) -> None:
    """Drop (ending its sessions) and create the database, then run every migration."""
    name = database_name(database_url)
    if not name.startswith("hub_bench"):
        raise ValueError(f"refusing to drop {name!r}: the benchmark database must be hub_bench*")
    with psycopg.connect(maintenance_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def flush_redis(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()


def check_services(database_url: str, redis_url: str) -> list[str]:
    """Problems reaching PostgreSQL or Redis, as short messages (empty when both answer)."""
    problems = []
    try:
        with psycopg.connect(maintenance_url(database_url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        problems.append(f"PostgreSQL at {maintenance_url(database_url)}: {exc}")
    try:
        redis.Redis.from_url(redis_url, socket_timeout=5).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {redis_url}: {exc}")
    return problems


MIN_ROWS = 1000  # below this a table is not vacuumed between scenarios (see ``vacuum``)


def postgres_autovacuum() -> str:
    """The server's ``autovacuum`` setting (``on``/``off``), for the report."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def vacuum() -> None:
    """VACUUM (ANALYZE) the tables the scenarios churn, between scenarios.

    What autovacuum does in a deployment, done at a fixed point: a PostgreSQL run with
    autovacuum off (as on this project's machines) otherwise carries every earlier scenario's
    dead rows into the next one's measurement (64,000 dead delivery rows for the dispatcher's
    claims to step over after the deliver, end-to-end and isolation scenarios), and a run with
    it on would vacuum in the middle of a measurement. pgbench vacuums before each run for
    the same reason.

    Tables with fewer than ``MIN_ROWS`` live rows are left alone: vacuumed or analysed almost
    empty, they tell the planner "one row per page, one page" while the next scenario grows
    them by thousands, and with nothing to refresh that the inbound look-up chose an index on
    the tenant alone and read every lead (5.7 ms a call, PostgreSQL at 0.75 cores for 200
    leads/s). Never vacuumed, the planner estimates from their actual size.
    """
    from django.db import connection

    from deliveries.models import Delivery
    from leads.models import Lead
    from logs.models import CallLog, InboundCall

    names = [model._meta.db_table for model in (Lead, Delivery, InboundCall, CallLog)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND n_live_tup >= %s",
            [names, MIN_ROWS],
        )
        busy = [row[0] for row in cursor.fetchall()]
        if busy:
            tables = ", ".join(connection.ops.quote_name(name) for name in busy)
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
