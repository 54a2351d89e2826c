"""One permission for the whole API: a tenant is required; writing needs a write role."""

from rest_framework import permissions


class TenantRolePermission(permissions.BasePermission):
    message = "This key or user may read but not change."

    def has_permission(self, request, view) -> bool:
        if getattr(request._request, "tenant", None) is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(getattr(request._request, "can_write", False))
