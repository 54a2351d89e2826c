"""Paging for tables of millions of rows: read one page plus one row, never COUNT(*) them all.

A page is ``LIMIT size + 1 OFFSET (page - 1) * size`` in the list order, walked along an index.
The total is exact when it is cheap to know (the last page is in sight, or the planner expects
few rows and reading at most EXACT_LIMIT + 1 ids confirms it) and otherwise the planner's
estimate (EXPLAIN, no rows read), flagged ``count_exact = False``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from rest_framework import pagination, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from tenants.api.pagination import HubPagination

# Up to this many rows a total is exact (their ids are read once, along an index).
EXACT_LIMIT = 1000
# When the planner expects more rows than this, its estimate is the total; nothing is counted.
ESTIMATE_TRUSTED_ABOVE = 10 * EXACT_LIMIT


@dataclass
class Window:
    """One page of rows and what is known about the whole result."""

    rows: list
    page: int
    size: int
    has_next: bool
    count: int
    count_exact: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        """1-based position of the first row on this page (0 when the page is empty)."""
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.size + len(self.rows)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.size)) if self.size else 1


def planner_estimate(queryset: QuerySet) -> int | None:
    """The row count PostgreSQL's planner expects for ``queryset`` (no rows are read)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def _rows_at(queryset: QuerySet, offset: int, size: int) -> tuple[list, bool]:
    """``size`` rows from ``offset`` in the queryset's order, and whether more follow."""
    rows = list(queryset[offset : offset + size + 1])
    return rows[:size], len(rows) > size


def page_window(queryset: QuerySet, page: int, size: int) -> Window:
    """Rows of ``page`` (1-based) of ``size`` rows in the queryset's order, with a total.

    The planner's estimate decides the strategy. A large result: one LIMIT/OFFSET page query,
    the estimate as the (inexact) total. A small one: the ordered ids up to EXACT_LIMIT + 1
    are read once (for a trigram search that is the one expensive index scan) and give both
    the exact total and the page, whose rows are then fetched by primary key.
    """
    offset = (page - 1) * size
    estimate = planner_estimate(queryset)
    if estimate is not None and estimate > ESTIMATE_TRUSTED_ABOVE:
        rows, has_next = _rows_at(queryset, offset, size)
        if not has_next and (rows or page == 1):
            return Window(rows, page, size, False, offset + len(rows), True)
        floor = offset + len(rows) + (1 if has_next else 0) if rows else 0
        return Window(rows, page, size, has_next, max(estimate, floor), False)
    if estimate is None:  # no planner to ask (SQLite): small databases, count exactly
        rows, has_next = _rows_at(queryset, offset, size)
        count = offset + len(rows) if not has_next and rows else queryset.count()
        return Window(rows, page, size, has_next, count, True)

    wanted = max(EXACT_LIMIT, offset + size) + 1
    ids = list(queryset.values_list("pk", flat=True)[:wanted])
    page_ids = ids[offset : offset + size]
    has_next = len(ids) > offset + size
    position = {pk: n for n, pk in enumerate(page_ids)}
    rows = sorted(queryset.filter(pk__in=page_ids), key=lambda row: position[row.pk])
    if len(ids) < wanted:
        return Window(rows, page, size, has_next, len(ids), True)
    # The planner expected few rows but there are more than were read: "at least" this many.
    return Window(rows, page, size, has_next, max(estimate, len(ids)), False)


def parse_page(raw) -> int:
    """A 1-based page number from the query string; ValueError for anything else."""
    if raw in (None, ""):
        return 1
    page = int(raw)
    if page < 1:
        raise ValueError(page)
    return page


class LogPagination(pagination.BasePagination):
    """``?page=N&page_size=20|50|100|200|500|1000`` → ``count, count_exact, next, previous,
    results``. ``count`` is exact when ``count_exact`` is true, else the planner's estimate."""

    page_query_param = "page"
    page_size_query_param = "page_size"
    page_size = HubPagination.page_size

    def get_page_size(self, request) -> int:
        return HubPagination().get_page_size(request)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            page = parse_page(request.query_params.get(self.page_query_param))
        except ValueError as exc:
            raise serializers.ValidationError(
                {self.page_query_param: ["A positive whole number is required."]}
            ) from exc
        self.request = request
        self.window = page_window(queryset, page, self.get_page_size(request))
        return self.window.rows

    def _link(self, page: int | None) -> str | None:
        if page is None:
            return None
        url = self.request.build_absolute_uri()
        if page == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page)

    def get_paginated_response(self, data):
        window = self.window
        return Response(
            {
                "count": window.count,
                "count_exact": window.count_exact,
                "next": self._link(window.page + 1 if window.has_next else None),
                "previous": self._link(window.page - 1 if window.has_previous else None),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_exact", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "count_exact": {
                    "type": "boolean",
                    "description": "False when count is the database planner's estimate.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "enum": list(HubPagination.allowed_sizes)},
            },
        ]
