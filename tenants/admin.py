"""Console pages for API keys and the audit trail; platform admin for tenants and members."""

from django.contrib import admin, messages

from . import audit
from .console import TenantAdmin, console_site
from .models import ApiKey, AuditEvent, Membership, Tenant


@admin.register(Tenant)
class TenantPlatformAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "timezone", "created_at")
    search_fields = ("slug", "name")


@admin.register(Membership)
class MembershipPlatformAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role")
    list_filter = ("role",)


@admin.register(ApiKey, site=console_site)
class ApiKeyAdmin(TenantAdmin):
    list_display = ("name", "prefix", "role", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "role")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        key, raw = ApiKey.issue(request.tenant, obj.name, obj.role)
        obj.pk = key.pk
        audit.record(request, "create", key)
        messages.warning(
            request, f"API key created. Copy it now, it will not be shown again: {raw}"
        )

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        from django.utils import timezone

        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            before = audit.snapshot(key)
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(request, "update", key, before)
        self.message_user(request, f"Revoked {len(keys)} key(s).")


@admin.register(AuditEvent, site=console_site)
class AuditEventAdmin(TenantAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    readonly_fields = (
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
