"""Template helpers of the console layout: data-flow sections and empty-state hints."""

from __future__ import annotations

from django import template
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import IS_FACETS_VAR
from django.urls import NoReverseMatch, reverse

from tenants.nav import ordered_app_list

register = template.Library()

# What to do next when a list is empty, by model. A ModelAdmin may set ``empty_state`` (same
# keys) to override. Action URLs are URL names; an action whose page does not exist is omitted.
EMPTY_STATES: dict[str, dict] = {
    "inbound.inboundhandler": {
        "title": "No inbound handlers yet",
        "text": "An inbound handler is a URL your lead sources post to. Create one, paste a "
        "sample body, and map its parameters to lead fields.",
    },
    "leads.lead": {
        "title": "No leads yet",
        "text": "Leads arrive when a source posts to an inbound handler's URL, or through "
        "POST /api/v1/leads/.",
        "actions": [
            ("Create an inbound handler", "console:inbound_inboundhandler_add"),
            ("Open the API docs", "swagger-ui"),
        ],
    },
    "leads.campaign": {
        "title": "No campaigns yet",
        "text": "A campaign groups leads and decides how they are distributed: broadcast to "
        "every matching endpoint, or a waterfall in priority order.",
    },
    "endpoints.endpoint": {
        "title": "No endpoints yet — create one from a preset",
        "text": "An endpoint is where leads are sent: a CRM, a dialer, a buyer's API. Presets "
        "(HubSpot, Salesforce, a JSON webhook, Slack…) fill in the URL, the adaptor and how "
        "the answer is read.",
        "actions": [
            ("Create from a preset", "endpoints-console:presets"),
            ("Create a blank endpoint", "console:endpoints_endpoint_add"),
        ],
    },
    "adaptors.adaptor": {
        "title": "No adaptors yet",
        "text": "An adaptor maps lead fields to the names a buyer expects. Creating an endpoint "
        "from a preset makes one for you.",
    },
    "deliveries.delivery": {
        "title": "No deliveries yet",
        "text": "A delivery is written when a lead matches an active endpoint. Check that an "
        "active endpoint serves the lead's campaign.",
        "actions": [("See the endpoints", "console:endpoints_endpoint_changelist")],
    },
    "logs.calllog": {
        "title": "No calls yet",
        "text": "Every request sent to an endpoint is logged here, with what was sent and what "
        "came back — Test panel calls included.",
        "actions": [("See the endpoints", "console:endpoints_endpoint_changelist")],
    },
    "logs.inboundcall": {
        "title": "No inbound calls yet",
        "text": "Each request to an inbound handler's URL is logged here, valid or not.",
        "actions": [("See the inbound handlers", "console:inbound_inboundhandler_changelist")],
    },
    "tenants.apikey": {
        "title": "No API keys yet",
        "text": "An API key lets a program use the REST API as this tenant.",
    },
}


@register.simple_tag(takes_context=True)
def console_sections(context, app_list) -> list[dict]:
    """The navigation sections in data-flow order, each marked ``current`` for this page."""
    request = context.get("request")
    path = getattr(request, "path", "")
    sections = []
    for section in ordered_app_list(list(app_list or [])):
        current = any(
            m.get("admin_url") and path.startswith(m["admin_url"]) for m in section["models"]
        )
        sections.append({**section, "current": current})
    return sections


def _resolve(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def console_empty_state(context, cl) -> dict:
    """Title, text and next-step links for an empty change list.

    When filters or a search hide every row, the hint is to clear them instead.
    """
    opts = cl.opts
    if cl.has_active_filters or cl.query:
        # Django's "clear all filters" keeps the search; an empty result wants both gone.
        keep = {IS_POPUP_VAR, TO_FIELD_VAR, IS_FACETS_VAR}
        clear = cl.get_query_string(remove=[name for name in cl.params if name not in keep])
        return {
            "title": f"No {opts.verbose_name_plural} match these filters",
            "text": "Change the search or the filters, or clear them.",
            "actions": [("Clear all filters", clear)],
        }
    state = getattr(cl.model_admin, "empty_state", None) or EMPTY_STATES.get(opts.label_lower, {})
    request = context.get("request")
    membership = getattr(request, "membership", None)
    can_write = membership is not None and membership.can_write
    actions = []
    for label, url_name in state.get("actions", []):
        if url_name.endswith("_add") and not can_write:
            continue  # a viewer gets the explanation without links to forms they cannot use
        url = url_name if url_name.startswith(("/", "?")) else _resolve(url_name)
        if url:
            actions.append((label, url))
    if not state.get("actions") and request and cl.model_admin.has_add_permission(request):
        add_url = _resolve(f"console:{opts.app_label}_{opts.model_name}_add")
        if add_url:
            actions.append((f"Add {opts.verbose_name}", add_url))
    return {
        "title": state.get("title") or f"No {opts.verbose_name_plural} yet",
        "text": state.get("text", ""),
        "actions": actions,
    }
