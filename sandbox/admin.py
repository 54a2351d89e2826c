"""Console pages: request bins (with their newest requests) and each received request."""

from __future__ import annotations

import contextlib
import json

from django.contrib import admin
from django.db.models import Count, Max
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from tenants.console import (
    RequestContextMixin,
    TenantAdmin,
    TenantRelatedFieldListFilter,
    console_request,
    console_site,
)

from .models import BinRequest, RequestBin

SHOWN_ON_BIN_PAGE = 50
# The request being answered, so display methods (which only get the object) can build an
# absolute URL on the host the operator uses; a ContextVar is safe across server threads.


def _requests_url(bin_id: int) -> str:
    return reverse("console:sandbox_binrequest_changelist") + f"?bin__id__exact={bin_id}"


@admin.register(RequestBin, site=console_site)
class RequestBinAdmin(RequestContextMixin, TenantAdmin):
    list_display = ("name", "public_url", "response_status", "requests_link", "last_request_at")
    search_fields = ("name",)
    fields = (
        "name",
        "public_url",
        "response_status",
        "response_content_type",
        "response_body",
        "received_requests",
    )
    readonly_fields = ("public_url", "received_requests")
    actions = ["clear_requests"]
    empty_state = {
        "title": "No request bins yet",
        "text": "A request bin is a URL that records whatever is sent to it. Create one, then "
        "put its URL in an endpoint's sandbox URL to see exactly what the hub sends.",
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _request_count=Count("requests"), _last_request_at=Max("requests__created_at")
            )
        )

    @admin.display(description="URL")
    def public_url(self, obj: RequestBin):
        if obj.pk is None:
            return "Given when the bin is saved."
        url = obj.absolute_url(console_request())
        return format_html(
            '<code class="copyable" data-copy="{}">{}</code>'
            '<div class="help">Put this URL in an endpoint\'s sandbox URL to see exactly what '
            "the hub sends; any method and any sub-path are accepted.</div>",
            url,
            url,
        )

    @admin.display(description="Requests", ordering="_request_count")
    def requests_link(self, obj: RequestBin):
        return format_html('<a href="{}">{}</a>', _requests_url(obj.pk), obj._request_count)

    @admin.display(description="Last request", ordering="_last_request_at")
    def last_request_at(self, obj: RequestBin):
        return obj._last_request_at or "—"

    @admin.display(description="Newest requests")
    def received_requests(self, obj: RequestBin):
        if obj.pk is None:
            return "Requests sent to the bin's URL appear here."
        rows = list(obj.requests.order_by("-id")[:SHOWN_ON_BIN_PAGE])
        if not rows:
            return format_html(
                "<p class='empty-state'>Nothing received yet. Send a request to the URL above, "
                "or use an endpoint's Test panel with this URL as its sandbox URL.</p>"
            )
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("console:sandbox_binrequest_change", args=[r.pk]),
                    r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    r.method,
                    r.path + (f"?{r.query}" if r.query else ""),
                    r.remote_addr or "",
                    r.body[:120],
                )
                for r in rows
            ),
        )
        return format_html(
            '<table class="bin-requests"><thead><tr><th>Received</th><th>Method</th>'
            "<th>Path</th><th>From</th><th>Body</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All {} requests</a></p>',
            body,
            _requests_url(obj.pk),
            obj.requests.count(),
        )

    @admin.action(description="Clear the requests of the selected bins", permissions=["change"])
    def clear_requests(self, request, queryset):
        deleted, _ = BinRequest.objects.filter(bin__in=queryset).delete()
        self.message_user(request, f"Cleared {deleted} request(s).")


@admin.register(BinRequest, site=console_site)
class BinRequestAdmin(TenantAdmin):
    list_display = ("created_at", "bin", "method", "path", "remote_addr", "body_preview")
    list_filter = (("bin", TenantRelatedFieldListFilter), "method")
    search_fields = ("body", "path")
    list_select_related = ("bin",)
    fields = (
        "bin",
        "created_at",
        "method",
        "path",
        "query",
        "remote_addr",
        "headers_table",
        "body_pretty",
    )
    readonly_fields = fields
    empty_state = {
        "title": "No requests received",
        "text": "Send anything to a request bin's URL and it appears here, newest first.",
    }

    def has_module_permission(self, request) -> bool:
        return False  # reached from a bin's page, not from the navigation

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Body")
    def body_preview(self, obj: BinRequest) -> str:
        return obj.body[:100]

    @admin.display(description="Headers")
    def headers_table(self, obj: BinRequest):
        return format_html(
            '<table class="bin-headers">{}</table>',
            format_html_join(
                "", "<tr><th>{}</th><td><code>{}</code></td></tr>", sorted(obj.headers.items())
            ),
        )

    @admin.display(description="Body")
    def body_pretty(self, obj: BinRequest):
        text = obj.body
        with contextlib.suppress(ValueError):  # not JSON: shown exactly as received
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        return format_html('<pre class="bin-body">{}</pre>', text or "(empty)")
