"""One FilterSet per resource, shared by the API and the console."""

import django_filters

from tenants.filters import IdFilter, UtcDateTimeFilter

from .models import Lead


class LeadFilterSet(django_filters.FilterSet):
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    phone = django_filters.CharFilter(method="filter_phone")
    email = django_filters.CharFilter(method="filter_email")
    campaign = IdFilter(field_name="campaign_id")
    status = django_filters.CharFilter(field_name="status")

    class Meta:
        model = Lead
        fields = ["created_after", "created_before", "phone", "email", "campaign", "status"]

    def filter_phone(self, queryset, name, value):
        from .normalize import InvalidValue, normalize_phone

        try:
            value = normalize_phone(value)
        except InvalidValue:
            value = value.strip()
        return queryset.filter(phone=value)

    def filter_email(self, queryset, name, value):
        return queryset.filter(email=value.strip().lower())
