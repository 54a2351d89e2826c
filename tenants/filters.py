"""Filter building blocks shared by every app's FilterSet: bad values are a 400, never a 500."""

from datetime import UTC

import django_filters
from django import forms

BIGINT_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number PostgreSQL's bigint can hold (else 400, never a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(forms.DateTimeField):
    """An ISO 8601 date-time (naive = the current time zone), converted to UTC: PostgreSQL
    refuses offsets beyond ±15:59 that Python accepts, and a value that leaves the calendar
    in UTC is invalid."""

    def to_python(self, value):
        parsed = django_filters.fields.IsoDateTimeField().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Enter a date-time between years 1 and 9999.") from exc


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
