"""Public URLs of this app: the inbound receiver (no login, no CSRF, token in the path).

``inbound.middleware.HooksMiddleware`` serves these paths before the session and auth
middleware; the pattern here names the URL and serves it wherever that middleware is absent.
"""

import re

from django.urls import re_path

from .views import hook

HOOK_PATH = re.compile(r"hooks/(?P<token>[^/]+)/?")

urlpatterns = [
    re_path(rf"^{HOOK_PATH.pattern}$", hook, name="inbound-hook"),
]
