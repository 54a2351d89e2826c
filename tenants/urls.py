"""Absolute public URLs of the hub's own pages (hook URLs, request bins)."""

from __future__ import annotations

from django.conf import settings


def public_url(path: str, request=None) -> str:
    """``settings.HUB_PUBLIC_URL`` + ``path`` when set, else the scheme and host ``request``
    came to, else ``path`` alone."""
    base = (settings.HUB_PUBLIC_URL or "").rstrip("/")
    if base:
        return base + path
    return request.build_absolute_uri(path) if request is not None else path
