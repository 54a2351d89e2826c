"""CSV export of call logs, streamed: memory stays flat whatever the number of rows.

On PostgreSQL the rows are produced by ``COPY (SELECT …) TO STDOUT (FORMAT CSV)`` (psycopg 3):
the server formats and quotes every field and keeps sending while this process forwards the
bytes, so Python does little per row. Each row is still
checked before it leaves: a cheap byte-level test finds the rare row that could show a secret
(a sensitive query parameter or password in clear, or a known secret value of the tenant's
endpoints); only those rows are parsed and masked with ``logs.redact``. Other databases
(SQLite in ``make run``) get the same columns and formats through Django's chunked iterator.

Format: UTF-8, comma-separated, ``\\n`` line ends, fields quoted when they hold a comma, quote
or line break (quotes doubled). ``created_at`` is ISO 8601 in the tenant's time zone with
microseconds and offset; empty and missing values are empty fields.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo

from django.db import connections, transaction
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import NullIf

from tenants.redaction import MASK, is_sensitive_name

from .redact import SecretScrubber, safe_url

HEADER = (
    "id",
    "created_at",
    "endpoint",
    "endpoint_name",
    "lead",
    "delivery",
    "attempt",
    "test",
    "phone",
    "method",
    "url",
    "status_code",
    "outcome",
    "result",
    "duration_ms",
)
URL_COLUMN = HEADER.index("url")
RESULT_COLUMN = HEADER.index("result")
CHUNK_ROWS = 2000  # rows per round trip on the iterator path
FLUSH_BYTES = 64 * 1024  # bytes per block handed to the web server
PG_TIMESTAMP = 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'

# Query/form parameters (name, value) and a password in a URL, as they appear in a CSV line.
_PARAM = re.compile(rb"[?&;]([^=&#\s\",]+)=([^&#\s\",]*)")
_USERINFO = re.compile(rb"://[^/@\s\",]*:[^/@\s\",]*@")
_MASK = MASK.encode()


@functools.lru_cache(maxsize=4096)
def _sensitive_param(name: bytes) -> bool:
    """tenants.redaction's own test, decided once per distinct parameter name."""
    return is_sensitive_name(unquote_plus(name.decode("utf-8", "replace")))


def line_may_show_secret(line: bytes) -> bool:
    """True when a CSV line has a sensitive parameter with a value other than the mask, or a
    password in a URL. It may say yes for a harmless line (that line is then parsed and run
    through the masking), never no for a line that needs it."""
    if b"@" in line and _USERINFO.search(line):
        return True
    return any(value != _MASK and _sensitive_param(name) for name, value in _PARAM.findall(line))


def _writer(buffer: io.StringIO):
    return csv.writer(buffer, lineterminator="\n")


def mask_row(row: list, scrub: SecretScrubber) -> list:
    """The one masking step of an exported row: the URL and the result text."""
    if row[URL_COLUMN]:
        row[URL_COLUMN] = safe_url(row[URL_COLUMN], scrub)
    if row[RESULT_COLUMN]:
        row[RESULT_COLUMN] = scrub(row[RESULT_COLUMN])
    return row


def header_line() -> bytes:
    buffer = io.StringIO()
    _writer(buffer).writerow(HEADER)
    return buffer.getvalue().encode()


def iter_csv(
    queryset: QuerySet,
    *,
    endpoint_names: dict[int, str],
    zone: ZoneInfo,
    scrub: SecretScrubber,
) -> Iterator[bytes]:
    """The CSV of ``queryset``'s call logs in its order, header first, in blocks of ~64 KB."""
    yield header_line()
    if connections[queryset.db].vendor == "postgresql":
        lines = _copy_lines(queryset, zone, scrub)
    else:
        lines = _iterator_lines(queryset, endpoint_names, zone, scrub)
    yield from _blocks(lines)


def _blocks(lines: Iterable[bytes]) -> Iterator[bytes]:
    block: list[bytes] = []
    size = 0
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            yield b"".join(block)
            block, size = [], 0
    if block:
        yield b"".join(block)


# --- PostgreSQL: COPY ---------------------------------------------------------------------


def copy_columns(queryset: QuerySet) -> QuerySet:
    """HEADER's columns as text, formatted by PostgreSQL, in the list's order."""
    text = TextField()

    def blank_as_null(expression):
        # COPY writes NULL as an empty field and '' as "": make both an empty field.
        return NullIf(expression, Value(""), output_field=text)

    return queryset.annotate(
        _created=Func(F("created_at"), Value(PG_TIMESTAMP), function="to_char", output_field=text),
        _endpoint_name=blank_as_null(F("endpoint__name")),
        _test=Case(When(test=True, then=Value("true")), default=Value("false"), output_field=text),
        _phone=blank_as_null(F("phone")),
        _method=blank_as_null(KeyTextTransform("method", "request")),
        _url=blank_as_null(KeyTextTransform("url", "request")),
        _status=KeyTextTransform("status_code", "response"),
        _result=blank_as_null(F("result")),
    ).values_list(
        "id",
        "_created",
        "endpoint_id",
        "_endpoint_name",
        "lead_id",
        "delivery_id",
        "attempt",
        "_test",
        "_phone",
        "_method",
        "_url",
        "_status",
        "outcome",
        "_result",
        "duration_ms",
    )


def _secret_probe(scrub: SecretScrubber):
    """A byte test for known secrets in a CSV line; None when there are none to look for."""
    if not scrub.values:
        return None
    variants = set()
    for value in scrub.values:
        variants.add(value.encode())
        variants.add(value.replace('"', '""').encode())  # as it appears inside a quoted field
    return re.compile(b"|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)))


def _copy_lines(queryset: QuerySet, zone: ZoneInfo, scrub: SecretScrubber) -> Iterator[bytes]:
    connection = connections[queryset.db]
    sql, params = copy_columns(queryset).query.sql_with_params()
    secret = _secret_probe(scrub)
    suspect = line_may_show_secret
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        # to_char() writes the local time and offset of the session's zone. SET LOCAL lasts
        # to the end of the transaction, which may be an outer one (a savepoint here), so the
        # zone is put back afterwards; if the export is abandoned the rollback does that.
        cursor.execute("SELECT current_setting('TimeZone')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone.key])
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT CSV)", params) as copy:
            for data in copy:
                line = bytes(data)  # one row per COPY message
                if suspect(line) or (secret is not None and secret.search(line)):
                    line = _remask(line, scrub)
                yield line
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [previous])


def _remask(data: bytes, scrub: SecretScrubber) -> bytes:
    buffer = io.StringIO()
    writer = _writer(buffer)
    for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")):
        writer.writerow(mask_row(row, scrub))
    return buffer.getvalue().encode("utf-8")


# --- other databases: Django's chunked iterator -------------------------------------------


def _iterator_lines(
    queryset: QuerySet, endpoint_names: dict[int, str], zone: ZoneInfo, scrub: SecretScrubber
) -> Iterator[bytes]:
    rows = queryset.annotate(
        _method=KeyTextTransform("method", "request"),
        _url=KeyTextTransform("url", "request"),
        _status=KeyTextTransform("status_code", "response"),
    ).values_list(
        "id",
        "created_at",
        "endpoint_id",
        "lead_id",
        "delivery_id",
        "attempt",
        "test",
        "phone",
        "_method",
        "_url",
        "_status",
        "outcome",
        "result",
        "duration_ms",
    )
    buffer = io.StringIO()
    writer = _writer(buffer)
    for pk, created, endpoint_id, lead, delivery, attempt, test, phone, *rest in rows.iterator(
        chunk_size=CHUNK_ROWS
    ):
        method, url, status, outcome, result, duration = rest
        row = [
            pk,
            created.astimezone(zone).isoformat(timespec="microseconds"),
            endpoint_id,
            endpoint_names.get(endpoint_id, ""),
            lead,
            delivery,
            attempt,
            "true" if test else "false",
            phone,
            method,
            url,
            status,
            outcome,
            result,
            duration,
        ]
        writer.writerow(mask_row(row, scrub))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate(0)
