"""Console pages for endpoints: the list (with an Active toggle and a row menu) and the editor
(with a Test panel that calls ``POST /api/v1/endpoints/{id}/test/``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from leads.models import Lead, LeadField
from leads.widgets import ConditionWidget
from tenants.console import TenantAdmin, console_site

from .forms import EndpointForm
from .models import Endpoint

TEST_API_URL = "/api/v1/endpoints/{pk}/test/"
RECENT_LEADS = 20


@admin.register(Endpoint, site=console_site)
class EndpointAdmin(TenantAdmin):
    form = EndpointForm
    change_form_template = "endpoints/change_form.html"
    change_list_template = "endpoints/change_list.html"
    list_display_links = ("name",)
    list_filter = ("category", "active", "content_type", "method")
    search_fields = ("name", "url")
    list_select_related = ("adaptor",)
    fieldsets = (
        (
            "URL endpoint",
            {
                "fields": (
                    "name",
                    ("category", "method", "content_type"),
                    "url",
                    ("sandbox_url", "use_sandbox"),
                    "adaptor",
                    "timeout_seconds",
                    "headers_rows",
                )
            },
        ),
        (
            "Authentication",
            {
                "description": "Secret inputs are write-only: leave blank to keep the stored "
                "value, tick “clear” to remove it.",
                "fields": (
                    "auth_type",
                    "username",
                    ("password", "clear_password"),
                    ("token", "clear_token"),
                    ("params", "clear_params"),
                    "header_name",
                    ("header_value", "clear_header_value"),
                    "token_url",
                    "client_id",
                    ("client_secret", "clear_client_secret"),
                    ("scope", "client_auth"),
                    ("signing_secret", "clear_signing_secret"),
                ),
            },
        ),
        (
            "Response",
            {
                "fields": (
                    "response_format",
                    ("success_path", "success_op", "success_value"),
                    "capture_rows",
                    "reject_reason_path",
                )
            },
        ),
        (
            "Routing",
            {
                "fields": (
                    "filters",
                    "campaigns",
                    ("priority", "active"),
                    ("caps_daily", "caps_weekly", "caps_monthly"),
                    "schedule",
                    ("geo_states_include", "geo_states_exclude"),
                    ("geo_zips_include", "geo_zips_exclude"),
                )
            },
        ),
        (
            "Retry & limits",
            {"fields": (("retry_max_attempts", "retry_backoff_seconds"), "rate_limit_per_second")},
        ),
    )

    class Media:
        css = {"all": ("endpoints/console.css",)}
        js = ("endpoints/console.js",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "filters":
            names = LeadField.objects.for_tenant(getattr(request, "tenant", None))
            kwargs["widget"] = ConditionWidget(fields=names.values_list("name", flat=True))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_list_display(self, request):
        can_write = self._can_write(request)
        back = request.get_full_path()

        @admin.display(description="Active")
        def active_toggle(obj):
            state = "on" if obj.active else "off"
            if not can_write:
                return format_html('<span class="toggle toggle-{}">{}</span>', state, state)
            # The list sits inside the changelist <form> (which carries the CSRF token), and
            # forms cannot nest: the button posts that form to the toggle view instead.
            return format_html(
                '<button type="submit" class="toggle toggle-{}" formmethod="post" '
                'formaction="{}" name="next" value="{}" title="{}">{}</button>',
                state,
                reverse("endpoints-console:toggle", args=[obj.pk]),
                back,
                "Deactivate" if obj.active else "Activate",
                state,
            )

        @admin.display(description="")
        def row_menu(obj):
            change = reverse("console:endpoints_endpoint_change", args=[obj.pk])
            items = [format_html('<a href="{}">Settings</a>', change)]
            if can_write:
                items.append(format_html('<a href="{}#test-panel">Test</a>', change))
                items.append(
                    format_html(
                        '<a href="{}" class="deletelink">Delete</a>',
                        reverse("console:endpoints_endpoint_delete", args=[obj.pk]),
                    )
                )
            return format_html(
                '<details class="row-menu"><summary title="Actions">⋯</summary>'
                '<div class="row-menu-items">{}</div></details>',
                format_html_join("", "{}", ((item,) for item in items)),
            )

        return ("name", "url_short", "category", "type_label", active_toggle, row_menu)

    @admin.display(description="URL", ordering="url")
    def url_short(self, obj):
        url = obj.target_url
        return url if len(url) <= 60 else url[:57] + "…"

    @admin.display(description="Type")
    def type_label(self, obj):
        return f"{obj.get_content_type_display()} · {obj.method}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tenant = getattr(request, "tenant", None)
        leads = Lead.objects.for_tenant(tenant).order_by("-created_at", "-id")[:RECENT_LEADS]
        extra = {
            "recent_leads": [
                (
                    lead.pk,
                    f"#{lead.pk} {lead.email or lead.phone or ''} "
                    f"({lead.created_at:%Y-%m-%d %H:%M})",
                )
                for lead in leads
            ],
            "test_url": TEST_API_URL.format(pk=object_id) if str(object_id).isdigit() else "",
            "can_test": self._can_write(request),
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in getattr(form, "warnings", []):
            messages.warning(request, warning)
