"""Public URLs of this app: the inbound receiver (no login, no CSRF, token in the path)."""

from django.urls import re_path

from .views import hook

urlpatterns = [
    re_path(r"^hooks/(?P<token>[^/]+)/?$", hook, name="inbound-hook"),
]
