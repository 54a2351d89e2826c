"""API authentication: a tenant's API key as a Bearer token, or the console session."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from .models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>``; sets ``request.tenant`` and ``request.can_write``."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("Empty API key.")
        key = ApiKey.authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        key.touch()
        request._request.tenant = key.tenant
        request._request.can_write = key.can_write
        return (None, key)

    def authenticate_header(self, request):
        return self.keyword


class ConsoleSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in console member uses the API with their tenant and role (CSRF enforced)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        membership = getattr(request._request, "membership", None)
        if membership is None:
            return None
        request._request.tenant = membership.tenant
        request._request.can_write = membership.can_write
        return result
