"""One FilterSet per log model, shared by the API lists, the CSV export and the console pages.

Naive dates (``2026-12-06`` or ``2026-12-06T09:30``) are read in the tenant's time zone, so a
console operator and an API client asking for "the 6th" see the same rows; values with an
offset mean exactly what they say.
"""

from __future__ import annotations

import re

import django_filters
import phonenumbers
from django import forms
from django.apps import apps
from django.db import connection
from django.utils import timezone

from tenants.filters import UtcDateTimeFilter

from .models import CallLog, InboundCall, InboundStatus, Outcome
from .zones import tenant_zone

DEFAULT_PHONE_REGION = "US"
TRIGRAM_LENGTH = 3


def normalize_phone(value: str) -> str:
    """E.164 when ``value`` parses as a valid number (US by default), else the trimmed text."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ZonedForm(forms.Form):
    """A filter form that cleans its values with ``zone`` as the current time zone."""

    zone = None

    def full_clean(self):
        if self.zone is None:
            return super().full_clean()
        with timezone.override(self.zone):
            return super().full_clean()


class TenantZonedFilterSet(django_filters.FilterSet):
    """Reads naive datetimes in the request tenant's zone (subclasses set ``Meta.form =
    ZonedForm``); model choices are scoped to the tenant by their queryset callables."""

    @property
    def tenant(self):
        return getattr(self.request, "tenant", None)

    @property
    def form(self):
        form = super().form
        form.zone = tenant_zone(self.tenant)
        return form


# Choices load only id and name: whole rows would decrypt every endpoint's secrets to draw a
# <select>.
def _tenant_endpoints(request):
    Endpoint = apps.get_model("endpoints", "Endpoint")
    tenant = getattr(request, "tenant", None)
    return Endpoint.objects.for_tenant(tenant).only("id", "name").order_by("name", "id")


def _tenant_handlers(request):
    Handler = apps.get_model("inbound", "InboundHandler")
    tenant = getattr(request, "tenant", None)
    return Handler.objects.for_tenant(tenant).only("id", "name").order_by("name", "id")


_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1})
_YES_NO = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])


class CallLogFilterSet(TenantZonedFilterSet):
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="From", widget=_DATETIME
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Until (exclusive)", widget=_DATETIME
    )
    phone = django_filters.CharFilter(method="filter_phone", label="Phone")
    q = django_filters.CharFilter(method="filter_q", label="Result contains")
    endpoint = django_filters.ModelChoiceFilter(queryset=_tenant_endpoints, label="Endpoint")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label="Outcome")
    test = django_filters.BooleanFilter(label="Test call", widget=_YES_NO)

    class Meta:
        model = CallLog
        form = ZonedForm
        fields = ["created_after", "created_before", "phone", "q", "endpoint", "outcome", "test"]

    def filter_phone(self, queryset, name, value):
        return queryset.filter(phone=normalize_phone(value))

    def filter_q(self, queryset, name, value):
        """Case-insensitive "result contains"."""
        term = value.strip()
        if not term:
            return queryset
        if len(term) >= TRIGRAM_LENGTH or connection.vendor != "postgresql":
            # UPPER(result) LIKE UPPER('%term%'): the trigram index's expression.
            return queryset.filter(result__icontains=term)
        # Under three characters there is no trigram to look up and a GIN scan would read the
        # whole index (seconds at 2M rows). A regex on the bare column cannot use that index,
        # so the planner walks the date-ordered index and stops at the page instead.
        return queryset.filter(result__iregex=re.escape(term))


class InboundCallFilterSet(TenantZonedFilterSet):
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="From", widget=_DATETIME
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Until (exclusive)", widget=_DATETIME
    )
    handler = django_filters.ModelChoiceFilter(queryset=_tenant_handlers, label="Handler")
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices, label="Status")
    method = django_filters.ChoiceFilter(choices=[("POST", "POST"), ("GET", "GET")], label="Method")

    class Meta:
        model = InboundCall
        form = ZonedForm
        fields = ["created_after", "created_before", "handler", "status", "method"]
