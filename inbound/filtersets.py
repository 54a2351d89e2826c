"""Filters for handlers and their calls; the calls FilterSet serves the API and the console."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.utils import timezone

from logs.models import InboundCall, InboundStatus
from tenants.filters import IdFilter, UtcDateTimeFilter

from .models import BodyType, HandlerMethod, InboundHandler

DEFAULT_WINDOW = timedelta(days=7)
TIMEFRAMES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


class InboundHandlerFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    method = django_filters.ChoiceFilter(choices=HandlerMethod.choices)
    body_type = django_filters.ChoiceFilter(choices=BodyType.choices)
    campaign = IdFilter(field_name="campaign_id")
    active = django_filters.BooleanFilter()

    class Meta:
        model = InboundHandler
        fields = ["name", "method", "body_type", "campaign", "active"]


class InboundCallFilterSet(django_filters.FilterSet):
    """A handler's calls: ``since`` (ISO datetime) or ``timeframe`` (1h, 24h, 7d, 30d), the
    last 7 days when neither is given; ``method``; ``status``. Newest first."""

    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    timeframe = django_filters.ChoiceFilter(
        choices=[(key, key) for key in TIMEFRAMES], method="filter_timeframe", empty_label="7d"
    )
    method = django_filters.ChoiceFilter(choices=HandlerMethod.choices)
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices)

    class Meta:
        model = InboundCall
        fields = ["since", "timeframe", "method", "status"]

    def filter_timeframe(self, queryset, name, value):
        return queryset.filter(created_at__gte=timezone.now() - TIMEFRAMES[value])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("since") and not data.get("timeframe"):
            queryset = queryset.filter(created_at__gte=timezone.now() - DEFAULT_WINDOW)
        return queryset.order_by("-created_at", "-id")
