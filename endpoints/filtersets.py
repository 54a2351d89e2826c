"""One FilterSet per resource, shared by the API and the console."""

import django_filters
from django.db.models import Q

from tenants.filters import IdFilter

from .models import Endpoint


class EndpointFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name or URL contains")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    category = django_filters.CharFilter(field_name="category")
    active = django_filters.BooleanFilter(field_name="active")
    content_type = django_filters.CharFilter(field_name="content_type")
    method = django_filters.CharFilter(field_name="method")
    campaign = IdFilter(field_name="campaigns", distinct=True)
    adaptor = IdFilter(field_name="adaptor_id")

    class Meta:
        model = Endpoint
        fields = ["q", "name", "category", "active", "content_type", "method", "campaign"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(url__icontains=value))
