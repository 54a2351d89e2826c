"""Baseline views the ingest scenario compares the inbound receiver with.

- ``bare``: the floor of the server configuration — Django parses a JSON body and answers.
- ``naive``: the issue's reference "naive Django view": parse a JSON lead, insert it as is
  (no normalisation, no routing, no dedupe) and enqueue a Celery task carrying its id.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leads.models import Lead

from .tasks import naive_post


def _json_body(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@csrf_exempt
@require_POST
def bare(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    if data is None:
        return JsonResponse({"error": "body must be a JSON object"}, status=400)
    return JsonResponse({"status": "accepted", "fields": len(data)}, status=201)


@csrf_exempt
@require_POST
def naive(request: HttpRequest, tenant_id: int, campaign_id: int) -> JsonResponse:
    data = _json_body(request)
    if data is None:
        return JsonResponse({"error": "body must be a JSON object"}, status=400)
    lead = Lead.objects.create(tenant_id=tenant_id, campaign_id=campaign_id, fields=data)
    naive_post.delay(lead.pk)
    return JsonResponse({"status": "accepted", "lead_id": lead.pk}, status=201)
