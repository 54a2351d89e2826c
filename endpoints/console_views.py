"""Console pages beyond the ModelAdmin ones: the Active toggle and "New from preset"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tenants.console import console_site

from . import presets
from .models import Endpoint
from .services import create_from_preset, toggle_active
from .validation import endpoint_warnings


def _require_write(request) -> None:
    membership = getattr(request, "membership", None)
    if membership is None or not membership.can_write:
        raise PermissionDenied("Your role may read but not change.")


def _changelist() -> str:
    return reverse("console:endpoints_endpoint_changelist")


@require_POST
def toggle_view(request, pk: int):
    """Flip an endpoint's Active switch from the list (CSRF-protected, audited)."""
    _require_write(request)
    endpoint = get_object_or_404(Endpoint.objects.for_tenant(request.tenant), pk=pk)
    toggle_active(request, endpoint)
    state = "activated" if endpoint.active else "deactivated"
    messages.success(request, f"Endpoint “{endpoint.name}” {state}.")
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = _changelist()
    return HttpResponseRedirect(target)


def _render_presets(request, values=None, errors=None, selected=""):
    context = {
        **console_site.each_context(request),
        "title": "New endpoint from a preset",
        "presets": [presets.describe(p) for p in presets.PRESETS],
        "values": values or {},
        "errors": errors or {},
        "selected": selected,
        "can_write": getattr(request.membership, "can_write", False),
        "changelist_url": _changelist(),
    }
    return TemplateResponse(request, "endpoints/presets.html", context)


@require_GET
def presets_view(request):
    return _render_presets(request)


def _flatten(errors) -> list[str]:
    if isinstance(errors, dict):
        return [f"{k}: {m}" for k, v in errors.items() for m in _flatten(v)]
    if isinstance(errors, list):
        return [m for item in errors for m in _flatten(item)]
    return [str(errors)]


@require_POST
def create_preset_view(request, key: str):
    """Create the adaptor + endpoint of one preset and open its settings page."""
    _require_write(request)
    preset = presets.BY_KEY.get(key)
    if preset is None:
        return _render_presets(request, errors={"preset": [f"Unknown preset {key!r}."]})
    credentials = {
        c.name: request.POST.get(f"cred_{c.name}", "")
        for c in preset.credentials
        if request.POST.get(f"cred_{c.name}", "") != ""
    }
    name = request.POST.get("name", "")
    url = request.POST.get("url", "")
    try:
        endpoint = create_from_preset(request, key, name=name, url=url, credentials=credentials)
    except presets.PresetError as exc:
        for message in _flatten(exc.errors):
            messages.error(request, message)
        values = {"name": name, "url": url}
        return _render_presets(request, values=values, errors=exc.errors, selected=key)
    messages.success(
        request, f"Endpoint “{endpoint.name}” created from {preset.name}. Review and test it."
    )
    for warning in endpoint_warnings(endpoint):
        messages.warning(request, warning)
    return HttpResponseRedirect(reverse("console:endpoints_endpoint_change", args=[endpoint.pk]))
