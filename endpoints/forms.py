"""The console's endpoint form: a UI over the same validation as the API serializer.

Composite settings (headers, auth, success rule, captures, caps, geo, retry) are edited as plain
inputs and assembled into the API payload, which :class:`EndpointSerializer` validates — so the
console and the API accept exactly the same things and keep secrets the same way: a secret input
is never rendered with its value; blank keeps the stored secret, "clear" removes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django import forms
from django.utils.html import format_html, format_html_join

from leads.widgets import ConditionWidget
from tenants.redaction import MASK

from .auth import PUBLIC_KEYS, SECRET_KEYS
from .models import AuthType, Endpoint
from .response import OPS
from .validation import headers_for_display

SIMPLE_FIELDS = (
    "name",
    "category",
    "method",
    "url",
    "sandbox_url",
    "use_sandbox",
    "content_type",
    "timeout_seconds",
    "response_format",
    "reject_reason_path",
    "priority",
    "active",
    "rate_limit_per_second",
)
AUTH_PUBLIC = ("username", "header_name", "token_url", "client_id", "scope", "client_auth")
AUTH_SECRETS = ("password", "token", "params", "header_value", "client_secret")
GEO_KEYS = ("states_include", "states_exclude", "zips_include", "zips_exclude")
CAP_KEYS = ("daily", "weekly", "monthly")


class RowsWidget(forms.Widget):
    """Editable rows of text inputs (``<name>-<i>-<column>``) with an "add row" button.

    Works without JavaScript (one blank row is always offered); static/endpoints/console.js
    adds and removes rows in place.
    """

    def __init__(self, columns: tuple[tuple[str, str], ...], attrs=None):
        super().__init__(attrs)
        self.columns = columns

    def format_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = []
        return list(value or [])

    def render(self, name, value, attrs=None, renderer=None):
        rows = self.format_value(value) + [{}]
        head = format_html_join("", "<th>{}</th>", ((label,) for _, label in self.columns))
        body = format_html_join(
            "",
            '<tr class="rows-row">{}<td><button type="button" class="rows-remove" '
            'title="Remove row">✕</button></td></tr>',
            (
                (
                    format_html_join(
                        "",
                        '<td><input type="text" name="{}-{}-{}" value="{}" aria-label="{}"></td>',
                        (
                            (name, index, key, row.get(key, "") or "", label)
                            for key, label in self.columns
                        ),
                    ),
                )
                for index, row in enumerate(rows)
            ),
        )
        return format_html(
            '<table class="rows-widget" id="{}" data-name="{}"><thead><tr>{}<th></th></tr>'
            '</thead><tbody>{}</tbody></table><button type="button" class="rows-add" '
            'data-for="{}">Add row</button>',
            (attrs or {}).get("id", f"id_{name}"),
            name,
            head,
            body,
            name,
        )

    def value_from_datadict(self, data, files, name):
        prefix = f"{name}-"
        indexes = sorted(
            {
                int(index)
                for key in data
                if key.startswith(prefix)
                and (index := key[len(prefix) :].split("-", 1)[0]).isdigit()
            }
        )
        rows = []
        for index in indexes:
            row = {
                key: (data.get(f"{name}-{index}-{key}") or "").strip() for key, _ in self.columns
            }
            if any(row.values()):
                rows.append(row)
        return rows

    def value_omitted_from_data(self, data, files, name):
        return False


class RowsField(forms.Field):
    widget = RowsWidget

    def __init__(self, columns, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(widget=RowsWidget(columns), **kwargs)

    def to_python(self, value):
        return list(value or [])


class OptionalJSONField(forms.JSONField):
    """A JSON textarea that shows nothing (not ``null``) when there is no value."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


def _secret_input() -> forms.CharField:
    return forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _csv(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]


class EndpointForm(forms.ModelForm):
    request = None  # set per request by EndpointAdmin.get_form

    headers_rows = RowsField(
        (("name", "Name"), ("value", "Value")),
        label="Headers",
        help_text="Sensitive headers (Authorization, API keys…) are stored encrypted and shown "
        "as ********; leave ******** to keep the value.",
    )
    auth_type = forms.ChoiceField(choices=AuthType.choices, initial=AuthType.NONE, label="Type")
    username = forms.CharField(required=False, help_text="basic")
    password = _secret_input()
    clear_password = forms.BooleanField(required=False, label="Clear password")
    token = _secret_input()
    clear_token = forms.BooleanField(required=False, label="Clear token")
    params = _secret_input()
    clear_params = forms.BooleanField(required=False, label="Clear query parameters")
    header_name = forms.CharField(required=False, help_text="header")
    header_value = _secret_input()
    clear_header_value = forms.BooleanField(required=False, label="Clear header value")
    token_url = forms.URLField(required=False, help_text="oauth2", assume_scheme="https")
    client_id = forms.CharField(required=False, help_text="oauth2")
    client_secret = _secret_input()
    clear_client_secret = forms.BooleanField(required=False, label="Clear client secret")
    scope = forms.CharField(required=False, help_text="oauth2 (optional)")
    client_auth = forms.ChoiceField(
        required=False,
        choices=(("body", "id and secret in the body"), ("basic", "HTTP Basic")),
        help_text="oauth2: how the client authenticates to the token URL",
    )
    signing_secret = _secret_input()
    clear_signing_secret = forms.BooleanField(required=False, label="Clear signing secret")

    success_path = forms.CharField(
        required=False, label="Success path", help_text="JSONPath, XPath or a regex per format"
    )
    success_op = forms.ChoiceField(
        required=False,
        choices=[("", "— any 2xx is success —")] + [(op, op) for op in OPS],
        label="Success operator",
    )
    success_value = forms.CharField(required=False, label="Success value")
    capture_rows = RowsField(
        (("path", "Path"), ("lead_field", "Lead field")),
        label="Capture",
        help_text="Values stored back onto the lead from the response.",
    )

    caps_daily = forms.IntegerField(required=False, min_value=0, label="Daily cap")
    caps_weekly = forms.IntegerField(required=False, min_value=0, label="Weekly cap")
    caps_monthly = forms.IntegerField(required=False, min_value=0, label="Monthly cap")
    schedule = OptionalJSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text='{"timezone": "America/New_York", "windows": [{"days": ["mon"], '
        '"start": "09:00", "end": "17:00"}]}',
    )
    geo_states_include = forms.CharField(required=False, label="States (only these)")
    geo_states_exclude = forms.CharField(required=False, label="States excluded")
    geo_zips_include = forms.CharField(required=False, label="ZIPs/prefixes (only these)")
    geo_zips_exclude = forms.CharField(required=False, label="ZIPs/prefixes excluded")
    retry_max_attempts = forms.IntegerField(required=False, min_value=1, label="Max attempts")
    retry_backoff_seconds = forms.IntegerField(
        required=False, min_value=0, label="Backoff (seconds)"
    )

    class Meta:
        model = Endpoint
        fields = (*SIMPLE_FIELDS, "adaptor", "campaigns", "filters")
        widgets = {"filters": ConditionWidget}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validated: dict = {}
        self.warnings: list[str] = []
        instance = self.instance
        secrets = instance.secrets or {}
        for name in (*AUTH_SECRETS, "signing_secret"):
            if name in self.fields:
                stored = bool(secrets.get(name))
                self.fields[name].help_text = (
                    "Set — leave blank to keep it." if stored else "Not set."
                )
        if instance.pk is None:
            return
        auth = instance.auth or {}
        success = instance.success or {}
        initial = {
            "headers_rows": headers_for_display(instance.headers, secrets.get("headers") or {}),
            "auth_type": instance.auth_type,
            **{key: auth.get(key, "") for key in AUTH_PUBLIC},
            "success_path": success.get("path", ""),
            "success_op": success.get("op", ""),
            "success_value": "" if success.get("value") is None else success.get("value"),
            "capture_rows": instance.capture or [],
            **{f"caps_{k}": (instance.caps or {}).get(k) for k in CAP_KEYS},
            "schedule": instance.schedule,
            **{f"geo_{k}": ", ".join((instance.geo or {}).get(k) or []) for k in GEO_KEYS},
            "retry_max_attempts": (instance.retry or {}).get("max_attempts"),
            "retry_backoff_seconds": (instance.retry or {}).get("backoff_seconds"),
        }
        for key, value in initial.items():
            if key in self.fields:
                self.initial[key] = value

    # The API payload these inputs stand for.
    def payload(self) -> dict:
        data = self.cleaned_data
        payload = {name: data.get(name) for name in SIMPLE_FIELDS if name in data}
        if payload.get("sandbox_url") is None:
            payload["sandbox_url"] = ""
        if payload.get("reject_reason_path") is None:
            payload["reject_reason_path"] = ""
        adaptor = data.get("adaptor")
        payload["adaptor"] = adaptor.pk if adaptor else None
        payload["campaigns"] = [c.pk for c in data.get("campaigns") or []]
        payload["filters"] = data.get("filters") or None
        payload["headers"] = data.get("headers_rows") or []

        kind = data.get("auth_type") or AuthType.NONE
        auth: dict = {"type": kind}
        for key in PUBLIC_KEYS.get(kind, ()):
            if data.get(key):
                auth[key] = data[key]
        for key in SECRET_KEYS.get(kind, ()):
            if data.get(f"clear_{key}"):
                auth[key] = ""
            else:
                auth[key] = data.get(key) or MASK
        payload["auth"] = auth
        if data.get("clear_signing_secret"):
            payload["signing_secret"] = ""
        else:
            payload["signing_secret"] = data.get("signing_secret") or MASK

        op = data.get("success_op")
        if op:
            rule = {"path": data.get("success_path") or "", "op": op}
            if data.get("success_value") not in (None, ""):
                rule["value"] = data["success_value"]
            payload["success"] = rule
        else:
            payload["success"] = None
        payload["capture"] = data.get("capture_rows") or []
        payload["caps"] = {
            k: data[f"caps_{k}"] for k in CAP_KEYS if data.get(f"caps_{k}") is not None
        }
        payload["schedule"] = data.get("schedule") or None
        geo = {k: _csv(data.get(f"geo_{k}", "")) for k in GEO_KEYS}
        payload["geo"] = {k: v for k, v in geo.items() if v} or None
        retry = {
            "max_attempts": data.get("retry_max_attempts"),
            "backoff_seconds": data.get("retry_backoff_seconds"),
        }
        payload["retry"] = {k: v for k, v in retry.items() if v is not None}
        return payload

    ERROR_FIELDS: Mapping[str, str] = {
        "headers": "headers_rows",
        "headers_text": "headers_rows",
        "auth": "auth_type",
        "success": "success_path",
        "capture": "capture_rows",
        "caps": "caps_daily",
        "geo": "geo_states_include",
        "retry": "retry_max_attempts",
    }

    def clean(self):
        from .api.serializers import EndpointSerializer

        cleaned = super().clean()
        if self.errors:
            return cleaned
        serializer = EndpointSerializer(
            instance=self.instance if self.instance.pk else None,
            data=self.payload(),
            context={"request": self.request},
        )
        if serializer.is_valid():
            self.validated = dict(serializer.validated_data)
            self.warnings = serializer.get_warnings(_Preview(self.validated))
            return cleaned
        for key, messages in serializer.errors.items():
            target = self.ERROR_FIELDS.get(key, key)
            if target not in self.fields:
                target = None
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(target, f"{key}: {message}" if target is None else str(message))
        return cleaned

    def save(self, commit=True):
        obj = super().save(commit=False)
        for key, value in self.validated.items():
            if key != "campaigns":
                setattr(obj, key, value)
        if commit:
            obj.save()
            self._save_m2m()
        return obj


class _Preview:
    """Enough of an endpoint for ``get_warnings`` before it is saved."""

    def __init__(self, data: dict):
        self.url = data.get("url", "")
        self.sandbox_url = data.get("sandbox_url", "")
        self.auth = data.get("auth") or {}
