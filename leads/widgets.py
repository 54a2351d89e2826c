"""Console widget for condition fields (endpoint ``filters``, inbound ``conditions``).

``ConditionWidget`` renders a plain JSON textarea; ``static/leads/conditions.js`` turns it into
a rule builder (match all/any, one row per rule: field, op, value, "any case") that writes the
JSON back into the textarea on every change. Conditions the builder cannot show as rows
(nested groups, ``not``) open in the raw JSON editor. Without JavaScript the textarea is the
editor. Validation stays on the server (``leads.conditions.validate``).

Use it on a JSON model field in a ModelAdmin::

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "filters":
            kwargs["widget"] = ConditionWidget(fields=lead_field_names(request.tenant))
        return super().formfield_for_dbfield(db_field, request, **kwargs)
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django import forms

from .conditions import NO_VALUE_OPS, OPS, TEXT_OPS


class ConditionWidget(forms.Textarea):
    """A JSON textarea enhanced into a rule builder; ``fields`` are suggested field names."""

    class Media:
        js = ("leads/conditions.js",)
        css = {"all": ("leads/conditions.css",)}

    def __init__(self, attrs=None, fields: Iterable[str] = ()):
        defaults = {"rows": 8, "cols": 80, "class": "vLargeTextField condition-json"}
        super().__init__({**defaults, **(attrs or {})})
        self.fields = list(fields)

    def format_value(self, value):
        """Pretty JSON for the textarea; empty for no condition."""
        if value in (None, "", "null", {}, "{}"):
            return ""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value  # the user's invalid input, shown back with the form error
        return json.dumps(value, indent=2, ensure_ascii=False)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(
            {
                "data-condition-builder": "1",
                "data-fields": json.dumps(self.fields),
                "data-ops": json.dumps(list(OPS)),
                "data-text-ops": json.dumps(sorted(TEXT_OPS)),
                "data-no-value-ops": json.dumps(list(NO_VALUE_OPS)),
            }
        )
        return context
