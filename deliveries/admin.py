"""Console pages for deliveries: list with status/endpoint filters, detail with its attempts,
and the operator actions Retry and Cancel (per row in bulk, and as buttons on the detail)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from endpoints.models import Endpoint
from logs.models import CallLog
from tenants.console import TenantAdmin, console_site

from . import services
from .filtersets import DeliveryFilterSet
from .models import OPEN_STATUSES, Delivery, Status


class _FilterSetListFilter(admin.SimpleListFilter):
    """A console list filter that filters through DeliveryFilterSet (one filter logic)."""

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        filterset = DeliveryFilterSet({self.parameter_name: self.value()}, queryset=queryset)
        return filterset.qs if filterset.is_valid() else queryset.none()


class StatusFilter(_FilterSetListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices


class EndpointFilter(_FilterSetListFilter):
    title = "endpoint"
    parameter_name = "endpoint"

    def lookups(self, request, model_admin):
        endpoints = Endpoint.objects.for_tenant(getattr(request, "tenant", None))
        return [(str(pk), name) for pk, name in endpoints.values_list("pk", "name")]


@admin.register(Delivery, site=console_site)
class DeliveryAdmin(TenantAdmin):
    list_display = (
        "id",
        "created_at",
        "lead_link",
        "endpoint",
        "status",
        "step",
        "attempts",
        "next_attempt_at",
        "short_error",
    )
    list_display_links = ("id",)
    list_filter = (StatusFilter, EndpointFilter)
    list_select_related = ("endpoint",)
    search_fields = ("=lead__id", "=key")
    show_full_result_count = False
    actions = ["retry_selected", "cancel_selected"]
    change_form_template = "deliveries/delivery_change_form.html"
    fields = (
        "lead_link",
        "endpoint_link",
        "status",
        "step",
        "attempts",
        "next_attempt_at",
        "last_error",
        "captured_json",
        "key",
        "lease_until",
        "created_at",
        "updated_at",
        "attempts_table",
    )
    readonly_fields = fields
    empty_state = {
        "title": "No deliveries yet",
        "text": "A delivery is written for each endpoint a lead is routed to. Post a lead to an "
        "inbound handler or the API, and its deliveries appear here.",
    }

    # Deliveries are the engine's records: operators retry or cancel them, never edit.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_operate_permission(self, request) -> bool:
        return self._can_write(request)

    @admin.display(description="Lead", ordering="lead_id")
    def lead_link(self, obj: Delivery):
        return format_html(
            '<a href="{}">Lead {}</a>',
            reverse("console:leads_lead_change", args=[obj.lead_id]),
            obj.lead_id,
        )

    @admin.display(description="Endpoint")
    def endpoint_link(self, obj: Delivery):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("console:endpoints_endpoint_change", args=[obj.endpoint_id]),
            obj.endpoint.name,
        )

    @admin.display(description="Last error / reason")
    def short_error(self, obj: Delivery) -> str:
        return obj.last_error[:80] + ("…" if len(obj.last_error) > 80 else "")

    @admin.display(description="Captured")
    def captured_json(self, obj: Delivery):
        if not obj.captured:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.captured, indent=2, sort_keys=True))

    @admin.display(description="Attempts (call logs)")
    def attempts_table(self, obj: Delivery):
        logs = CallLog.objects.filter(tenant_id=obj.tenant_id, delivery_id=obj.pk).order_by(
            "created_at", "id"
        )
        rows = [
            (
                f"/console/logs/calllog/{log.pk}/change/",
                log.attempt,
                log.created_at,
                log.outcome,
                (log.response or {}).get("status_code") or "—",
                log.result[:200],
                log.duration_ms,
            )
            for log in logs
        ]
        if not rows:
            return "No attempt yet."
        body = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{} ms</td></tr>",
            rows,
        )
        return format_html(
            '<table class="delivery-attempts"><thead><tr><th>Attempt</th><th>Date</th>'
            "<th>Outcome</th><th>HTTP</th><th>Result</th><th>Duration</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_operate": self.has_operate_permission(request),
            "open_statuses": [str(s) for s in OPEN_STATUSES],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Retry selected deliveries", permissions=["operate"])
    def retry_selected(self, request, queryset):
        count = services.retry(queryset)
        self.message_user(request, f"{count} deliveries will be sent again now.")

    @admin.action(description="Cancel selected deliveries", permissions=["operate"])
    def cancel_selected(self, request, queryset):
        count = services.cancel(queryset)
        self.message_user(request, f"Canceled {count} pending or retrying deliveries.")
