"""Console pages of call logs and inbound calls: read-only, tenant-scoped, fast at millions of rows.

The list and "Input Data" pages are the views in ``console_views`` (one FilterSet shared with
the API, date range inputs, page sizes 20…1000, paging without COUNT(*)); registering the models
here puts them in the console's navigation under their usual admin URLs.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from tenants.console import TenantAdmin, console_site

from . import console_views
from .models import CallLog, InboundCall


class ReadOnlyLogAdmin(TenantAdmin):
    """Logs are written by the hub, never by hand: no add, change or delete for anyone."""

    show_full_result_count = False
    list_per_page = console_views.DEFAULT_PAGE_SIZE

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied


@admin.register(CallLog, site=console_site)
class CallLogAdmin(ReadOnlyLogAdmin):
    def changelist_view(self, request, extra_context=None):
        self._require_view(request)
        return console_views.call_log_list(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._require_view(request)
        return console_views.call_log_detail(request, object_id)


@admin.register(InboundCall, site=console_site)
class InboundCallAdmin(ReadOnlyLogAdmin):
    def changelist_view(self, request, extra_context=None):
        self._require_view(request)
        return console_views.inbound_call_list(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._require_view(request)
        return console_views.inbound_call_detail(request, object_id)
