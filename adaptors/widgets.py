"""Console widgets: JSON lists of flat objects edited as rows (plain JSON without JavaScript)."""

from __future__ import annotations

import json
from typing import Any

from django import forms


class JsonRowsWidget(forms.Textarea):
    """A JSON textarea that ``static/adaptors/adaptor_form.js`` turns into an editable table.

    ``columns`` are ``{"name", "label", "placeholder"?, "suggestions"?}``; the script adds and
    removes rows and writes the JSON back into the textarea, which is what the form submits.
    Without JavaScript (or when the JSON is not a list of flat objects) the textarea is shown.
    """

    def __init__(self, columns: list[dict[str, Any]], attrs: dict | None = None):
        self.columns = [dict(column) for column in columns]
        base = {
            "rows": 8,
            "cols": 80,
            "class": "vLargeTextField adaptor-json",
            "spellcheck": "false",
        }
        super().__init__(attrs={**base, **(attrs or {})})

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.columns = [dict(column) for column in self.columns]
        return copy

    def suggest(self, column: str, values: list[str]) -> None:
        """Offer ``values`` (say, the tenant's lead field names) in ``column``'s input."""
        for spec in self.columns:
            if spec["name"] == column:
                spec["suggestions"] = list(values)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-json-rows"] = json.dumps(self.columns)
        return context

    def format_value(self, value):
        """Indented JSON, one row per few lines, so the no-JavaScript fallback stays readable."""
        text = super().format_value(value)
        if not text:
            return "[]"
        try:
            return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
        except ValueError:
            return text  # the operator's invalid input, shown back as typed
