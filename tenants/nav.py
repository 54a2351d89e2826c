"""Console navigation in the order a lead travels: inbound → leads → routing → endpoints →
deliveries → logs, then the tools.

``ordered_app_list`` regroups the admin's per-app list into these sections. The result keeps
the shape Django's templates expect (``name``, ``app_label``, ``app_url``, ``models``), so the
sidebar, the index page and the top navigation all render it unchanged. Wired from
``ConsoleSite.get_app_list`` (see ``ConsoleNavMixin``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Section:
    key: str
    name: str
    hint: str
    models: tuple[str, ...]  # "app_label.modelname", in display order
    # Extra pages of the section's menu: (label, URL name); a name that does not resolve
    # (the page is not there, or not yet) is left out.
    links: tuple[tuple[str, str], ...] = ()


SECTIONS: tuple[Section, ...] = (
    Section("inbound", "Inbound", "Where leads come in", ("inbound.inboundhandler",)),
    Section("leads", "Leads", "What was received", ("leads.lead", "leads.leadfield")),
    Section("routing", "Routing", "Who gets which lead", ("leads.campaign",)),
    Section(
        "endpoints",
        "Endpoints",
        "Where leads are sent",
        ("endpoints.endpoint", "adaptors.adaptor"),
        (("New endpoint from a preset", "endpoints-console:presets"),),
    ),
    Section("deliveries", "Deliveries", "Each send and its state", ("deliveries.delivery",)),
    Section(
        "logs",
        "Logs",
        "Every call in and out",
        ("logs.calllog", "logs.inboundcall", "tenants.auditevent"),
    ),
    Section(
        "tools",
        "Tools",
        "Test and connect",
        ("sandbox.requestbin", "tenants.apikey"),
        (("API docs", "swagger-ui"),),
    ),
)

# A model no section names goes to its app's section, so a new console page is never lost.
APP_SECTIONS: dict[str, str] = {
    "inbound": "inbound",
    "leads": "leads",
    "adaptors": "endpoints",
    "endpoints": "endpoints",
    "deliveries": "deliveries",
    "logs": "logs",
    "sandbox": "tools",
    "tenants": "tools",
}
FALLBACK_SECTION = "tools"


def _model_key(app_label: str, model: dict) -> str:
    return f"{app_label}.{model['object_name'].lower()}"


def section_of(model_key: str) -> str:
    for section in SECTIONS:
        if model_key in section.models:
            return section.key
    return APP_SECTIONS.get(model_key.split(".", 1)[0], FALLBACK_SECTION)


def _links(section: Section) -> list[dict]:
    links = []
    for label, url_name in section.links:
        try:
            links.append({"name": label, "url": reverse(url_name)})
        except NoReverseMatch:
            continue
    return links


def ordered_app_list(app_list: list[dict]) -> list[dict]:
    """Regroup Django's app list into the data-flow sections; empty sections are left out.

    A list that is already sectioned is returned as it is, so calling this twice is harmless.
    """
    if app_list and all(app.get("section") for app in app_list):
        return app_list
    found: dict[str, list[tuple[str, dict]]] = {s.key: [] for s in SECTIONS}
    for app in app_list:
        for model in app["models"]:
            key = _model_key(app["app_label"], model)
            found[section_of(key)].append((key, model))
    result = []
    for section in SECTIONS:
        models = found[section.key]
        if not models:
            continue
        position = {key: i for i, key in enumerate(section.models)}
        models.sort(key=lambda item: (position.get(item[0], len(position)), item[1]["name"]))
        result.append(
            {
                "name": section.name,
                "app_label": section.key,
                "app_url": models[0][1].get("admin_url") or "",
                "has_module_perms": True,
                "section": True,
                "hint": section.hint,
                "models": [model for _, model in models],
                "links": _links(section),
            }
        )
    return result


class ConsoleNavMixin:
    """Mix into the console AdminSite: the home page and every sidebar follow the data flow.

    A per-app page (``/console/<app_label>/``) keeps Django's own list, which its view needs.
    """

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        return app_list if app_label else ordered_app_list(app_list)
