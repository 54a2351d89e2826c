"""The one FilterSet of adaptors, used by the API list and the console's "in use" filter."""

import django_filters
from django.db.models import QuerySet

from .models import Adaptor


class AdaptorFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    in_use = django_filters.BooleanFilter(method="filter_in_use", label="Used by endpoints")

    class Meta:
        model = Adaptor
        fields = ["name", "in_use"]

    @staticmethod
    def filter_in_use(queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Adaptors some endpoint uses (True) or none does (False)."""
        if value is None:
            return queryset
        used = queryset.filter(endpoints__isnull=False).values("pk")
        return queryset.filter(pk__in=used) if value else queryset.exclude(pk__in=used)
