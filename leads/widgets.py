"""Form widgets for condition editing in the console."""

from django import forms


class ConditionWidget(forms.Textarea):
    """Edits a condition (JSON)."""
