"""The public request-bin URL: accepts any method, stores the request, answers as configured."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import RequestBin
from .receiver import Refusal, receive


@csrf_exempt
def receive_view(request: HttpRequest, token: str, rest: str = "") -> HttpResponse:
    """``/sandbox/<token>[/any/path]``: any method. 404 for an unknown bin, 413/429 past the
    limits; otherwise the bin's configured status, content type and body."""
    bin = RequestBin.objects.filter(token=token).first()
    if bin is None:
        return JsonResponse({"error": "No request bin with this URL."}, status=404)
    outcome = receive(bin, request)
    if isinstance(outcome, Refusal):
        response = JsonResponse({"error": outcome.message}, status=outcome.status)
        if outcome.retry_after is not None:
            response["Retry-After"] = str(outcome.retry_after)
        return response
    bodyless = bin.response_status in (204, 304) or request.method == "HEAD"
    response = HttpResponse(
        "" if bodyless else bin.response_body,
        status=bin.response_status,
        content_type=bin.response_content_type or "text/plain",
    )
    response["X-Bin-Request-Id"] = str(outcome.pk)
    return response
