"""Console pages for lead fields, campaigns and leads."""

import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from tenants.console import TenantAdmin, console_site

from .models import Campaign, Lead, LeadField


@admin.register(LeadField, site=console_site)
class LeadFieldAdmin(TenantAdmin):
    list_display = ("name", "label", "type", "required", "standard")
    list_filter = ("type", "required", "standard")
    search_fields = ("name", "label")

    def save_model(self, request, obj, form, change):
        from .services import forget_catalogue

        super().save_model(request, obj, form, change)
        forget_catalogue(request.tenant.pk)


@admin.register(Campaign, site=console_site)
class CampaignAdmin(TenantAdmin):
    list_display = ("name", "distribution", "active", "endpoint_list", "created_at")
    list_filter = ("distribution", "active")
    search_fields = ("name",)
    readonly_fields = ("endpoint_list",)

    @admin.display(description="Endpoints (priority order)")
    def endpoint_list(self, obj):
        if obj.pk is None:
            return "—"
        endpoints = obj.endpoints.order_by("priority", "id")
        if not endpoints:
            return "No endpoints yet: an endpoint with no campaigns serves every campaign."
        return format_html_join(
            ", ",
            '<a href="/console/endpoints/endpoint/{}/change/">{} ({})</a>',
            ((e.pk, e.name, e.priority) for e in endpoints),
        )


@admin.register(Lead, site=console_site)
class LeadAdmin(TenantAdmin):
    list_display = ("id", "created_at", "campaign", "phone", "email", "state", "zip_code", "status")
    list_filter = ("status", "campaign", "created_at")
    search_fields = ("=phone", "=email", "=zip_code")
    date_hierarchy = "created_at"
    list_select_related = ("campaign",)
    readonly_fields = (
        "created_at",
        "updated_at",
        "status",
        "status_reason",
        "fields_table",
        "routing_table",
        "deliveries_table",
    )
    fields = (
        "campaign",
        "fields",
        "status",
        "status_reason",
        "created_at",
        "updated_at",
        "fields_table",
        "routing_table",
        "deliveries_table",
    )
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Field values")
    def fields_table(self, obj):
        return format_html_join(
            "",
            "<div><b>{}</b>: {}</div>",
            sorted((k, json.dumps(v)) for k, v in obj.fields.items()),
        )

    @admin.display(description="Routing")
    def routing_table(self, obj):
        if not obj.routing:
            return "Not routed."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (r.get("name"), r.get("step", ""), r.get("decision"), r.get("reason"))
                for r in obj.routing
            ),
        )
        return format_html(
            "<table><tr><th>Endpoint</th><th>Step</th><th>Decision</th><th>Reason</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="Deliveries")
    def deliveries_table(self, obj):
        rows = format_html_join(
            "",
            '<tr><td><a href="/console/deliveries/delivery/{}/change/">{}</a></td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (d.pk, d.pk, d.endpoint.name, d.status, d.attempts, d.last_error[:120])
                for d in obj.deliveries.select_related("endpoint")
            ),
        )
        return format_html(
            "<table><tr><th>Id</th><th>Endpoint</th><th>Status</th><th>Attempts</th>"
            "<th>Last error</th></tr>{}</table>",
            rows,
        )
