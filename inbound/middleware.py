"""``/hooks/<token>`` served straight after the security middleware.

Sessions, CSRF, authentication, the console's tenant, messages and URL resolution mean
nothing to a machine posting a lead with a token in its path, and on the busiest URL of the
hub they were a tenth of a call's CPU. Every other path goes down the whole stack.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .urls import HOOK_PATH
from .views import hook


class HooksMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = HOOK_PATH.fullmatch(request.path_info, 1)  # after the leading "/"
        if match is not None:
            return hook(request, match["token"])
        return self.get_response(request)
