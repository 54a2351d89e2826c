"""One FilterSet per resource, shared by the API and the console."""

import django_filters

from tenants.filters import UtcDateTimeFilter

from .models import BinRequest, RequestBin


class RequestBinFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = RequestBin
        fields = ["name"]


class BinRequestFilterSet(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    method = django_filters.CharFilter(method="filter_method")
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = BinRequest
        fields = ["since", "until", "method", "q"]

    def filter_method(self, queryset, name, value):
        return queryset.filter(method=value.strip().upper())

    def filter_q(self, queryset, name, value):
        """Text search in the body and the path, the two places operators look for a lead."""
        from django.db.models import Q

        value = value.strip()
        return queryset.filter(Q(body__icontains=value) | Q(path__icontains=value))
