"""The public ``/hooks/<token>`` view: thin; the receiver module does the work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .receiver import receive


@csrf_exempt
def hook(request: HttpRequest, token: str) -> HttpResponse:
    """Any method; the handler decides what is accepted (see ``inbound.receiver``)."""
    answer = receive(request, token)
    response = HttpResponse(
        answer.body, status=answer.status_code, content_type=answer.content_type
    )
    for name, value in answer.headers:
        response[name] = value
    return response
