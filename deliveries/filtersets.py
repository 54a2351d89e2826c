"""One FilterSet for deliveries, shared by the API list and the console list."""

import django_filters

from tenants.filters import IdFilter, UtcDateTimeFilter

from .models import Delivery, Status, Step


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    endpoint = IdFilter(field_name="endpoint_id")
    lead = IdFilter(field_name="lead_id")
    step = django_filters.ChoiceFilter(choices=Step.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = ["status", "endpoint", "lead", "step", "created_after", "created_before"]
