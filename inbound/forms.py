"""The console form of an inbound handler: the API's checks (``inbound.config``), a sample-body
upload that generates parameters, a write-only secret and the shared condition widget."""

from __future__ import annotations

from django import forms

from leads.widgets import ConditionWidget

from . import config
from .models import InboundHandler

MAX_UPLOAD_BYTES = 256 * 1024
JSON_AREA = {"rows": 6, "cols": 80, "class": "vLargeTextField json-field"}


class InboundHandlerForm(forms.ModelForm):
    """``tenant`` is set on the class by the admin (scopes the deliver-action endpoints)."""

    tenant = None

    json_template_file = forms.FileField(
        required=False,
        label="Upload a sample body",
        help_text="A JSON (or, for XML handlers, XML) file; replaces the sample above and "
        "regenerates the parameters.",
    )
    secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Standard Webhooks secret (whsec_ + base64). Write-only: leave blank to keep "
        "the current one.",
    )
    clear_secret = forms.BooleanField(required=False, label="Remove the secret")
    regenerate_parameters = forms.BooleanField(
        required=False,
        label="Regenerate parameters from the sample",
        help_text="Also happens automatically when the sample changes.",
    )

    class Meta:
        model = InboundHandler
        fields = [
            "name",
            "description",
            "active",
            "method",
            "body_type",
            "campaign",
            "json_template",
            "parameters",
            "mappings",
            "protection_period_seconds",
            "conditions",
            "response",
            "actions",
            "allowed_ips",
        ]
        widgets = {
            "conditions": ConditionWidget(),
            "json_template": forms.Textarea(attrs={**JSON_AREA, "rows": 8}),
            "parameters": forms.Textarea(attrs=JSON_AREA),
            "mappings": forms.Textarea(attrs=JSON_AREA),
            "response": forms.Textarea(attrs=JSON_AREA),
            "actions": forms.Textarea(attrs={**JSON_AREA, "rows": 3}),
            "allowed_ips": forms.Textarea(attrs={**JSON_AREA, "rows": 2}),
        }
        help_texts = {
            "parameters": '[{"name": "contact.email", "type": "text", "required": true}] — '
            "types: text, integer, number, boolean, array.",
            "mappings": '[{"parameter": "contact.email", "lead_field": "email"}] — none: every '
            "parameter is stored under its own name.",
            "response": '{"status_code": 201, "content_type": "application/json", "body": '
            '"{\\"ok\\": true, \\"id\\": {{ lead.id }}}"} — a template seeing lead and status.',
            "actions": '[{"type": "distribute"}, {"type": "deliver", "endpoint": 7}, '
            '{"type": "notify", "email": "ops@example.com"}]',
            "allowed_ips": '["203.0.113.0/24", "2001:db8::/32"] — empty: any address.',
            "protection_period_seconds": "Identical calls within this many seconds are "
            "duplicates: answered like the first, nothing stored. 0 turns it off.",
        }

    def _check(self, field: str, check, *args):
        try:
            return check(self.cleaned_data.get(field), *args)
        except config.ConfigError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_parameters(self):
        return self._check("parameters", config.validate_parameters)

    def clean_conditions(self):
        return self._check("conditions", config.validate_conditions)

    def clean_response(self):
        return self._check("response", config.validate_response)

    def clean_actions(self):
        return self._check("actions", config.validate_actions, self.tenant)

    def clean_allowed_ips(self):
        return self._check("allowed_ips", config.validate_allowed_ips)

    def clean_protection_period_seconds(self):
        return self._check("protection_period_seconds", config.validate_protection_period)

    def clean_secret(self):
        if self.data.get(self.add_prefix("clear_secret")):
            return ""
        value = self.cleaned_data.get("secret") or ""
        if not value:
            return self.instance.secret if self.instance.pk else ""
        return self._check("secret", config.validate_secret)

    def clean_json_template_file(self):
        upload = self.cleaned_data.get("json_template_file")
        if not upload:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The sample is over {MAX_UPLOAD_BYTES // 1024} KiB.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The sample is not UTF-8 text.") from exc

    def clean(self):
        data = super().clean()
        uploaded = data.get("json_template_file")
        if uploaded:
            data["json_template"] = uploaded
        template = data.get("json_template") or ""
        changed = template != (self.instance.json_template if self.instance.pk else "")
        if template.strip() and (changed or data.get("regenerate_parameters")):
            try:
                data["parameters"] = config.parameters_from_template(
                    template,
                    data.get("body_type") or self.instance.body_type,
                    data.get("parameters") or self.instance.parameters,
                )
            except config.ConfigError as exc:
                self.add_error("json_template_file" if uploaded else "json_template", str(exc))
                return data
        if "parameters" in data and "mappings" in data:
            try:
                data["mappings"] = config.validate_mappings(
                    data.get("mappings"), data.get("parameters") or []
                )
            except config.ConfigError as exc:
                self.add_error("mappings", str(exc))
        return data

    def save(self, commit=True):
        self.instance.secret = self.cleaned_data.get("secret", self.instance.secret) or ""
        return super().save(commit)
