"""Attach the console user's tenant and membership to every request."""

from __future__ import annotations

from .models import Membership


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = Membership.objects.select_related("tenant").filter(user_id=user.pk).first()
            if membership is not None:
                request.membership = membership
                request.tenant = membership.tenant
        return self.get_response(request)
