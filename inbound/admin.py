"""Console pages for inbound handlers: the list (with 7-day call counts) and the editor."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from tenants.console import RequestContextMixin, TenantAdmin, console_request, console_site

from .forms import InboundHandlerForm
from .models import InboundHandler

CALLS_WINDOW = timedelta(days=7)
# The request being answered, so display methods (which only get the object) can build the
# absolute URL on the host the operator uses; a ContextVar is safe across server threads.


def calls_url(handler_id: int) -> str:
    return reverse("inbound-console-calls", args=[handler_id])


def instructions_url(handler_id: int) -> str:
    return reverse("inbound-console-instructions", args=[handler_id])


def copyable_url(url: str):
    return format_html(
        '<code class="copyable" data-copy="{}">{}</code> '
        '<button type="button" class="button copy-button" data-copy="{}">Copy</button>',
        url,
        url,
        url,
    )


@admin.register(InboundHandler, site=console_site)
class InboundHandlerAdmin(RequestContextMixin, TenantAdmin):
    form = InboundHandlerForm
    list_display = (
        "name",
        "method",
        "body_type",
        "campaign",
        "active",
        "calls_link",
        "public_url",
    )
    list_filter = ("active", "method", "body_type")
    search_fields = ("name", "description")
    list_select_related = ("campaign",)
    readonly_fields = ("public_url", "secret_state", "links")
    fieldsets = (
        (None, {"fields": ("name", "description", "active", "public_url", "links")}),
        ("Request", {"fields": ("method", "body_type", "campaign")}),
        (
            "Parameters",
            {
                "fields": (
                    "json_template",
                    "json_template_file",
                    "regenerate_parameters",
                    "parameters",
                    "mappings",
                )
            },
        ),
        ("Acceptance", {"fields": ("conditions", "protection_period_seconds")}),
        ("Answer and actions", {"fields": ("response", "actions")}),
        ("Security", {"fields": ("secret_state", "secret", "clear_secret", "allowed_ips")}),
    )
    empty_state = {
        "title": "No inbound handlers yet",
        "text": "An inbound handler is a public URL lead suppliers post to. Create one, send "
        "its posting instructions to the supplier, and watch its calls arrive.",
    }

    class Media:
        js = ("inbound/inbound.js",)
        css = {"all": ("inbound/inbound.css",)}

    def get_queryset(self, request):
        since = timezone.now() - CALLS_WINDOW
        return (
            super()
            .get_queryset(request)
            .annotate(_calls_7d=Count("calls", filter=Q(calls__created_at__gte=since)))
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.tenant = getattr(request, "tenant", None)
        return form

    @admin.display(description="Calls (7 days)", ordering="_calls_7d")
    def calls_link(self, obj: InboundHandler):
        return format_html('<a href="{}">{}</a>', calls_url(obj.pk), obj._calls_7d)

    @admin.display(description="URL")
    def public_url(self, obj: InboundHandler):
        if obj.pk is None:
            return "Given when the handler is saved."
        return copyable_url(obj.public_url(console_request()))

    @admin.display(description="Secret")
    def secret_state(self, obj: InboundHandler):
        return "Set: callers must sign their requests." if obj.secret else "Not set."

    @admin.display(description="Pages")
    def links(self, obj: InboundHandler):
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Calls</a> · <a href="{}">Posting instructions</a>',
            calls_url(obj.pk),
            instructions_url(obj.pk),
        )
