"""Tenant walls in the console, generated from ``console_site._registry`` and the URL map.

For every model registered on the console: another tenant's ids answer 404 on every object URL
(GET and POST, nothing of theirs changes), add/change forms and list filters never offer
another tenant's objects, the autocomplete endpoint never lists them, and bulk actions ignore
foreign ids. The extra console pages (``/console/x/…``) get the same checks from the URL map.
A model or page added later without a maker here fails ``test_every_*_is_covered``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.db import models
from django.urls import URLPattern, URLResolver

from adaptors.models import Adaptor
from deliveries.models import Delivery
from endpoints.models import Endpoint
from inbound.models import InboundHandler
from leads.models import Campaign, Lead, LeadField
from logs.models import CallLog, InboundCall
from sandbox.models import BinRequest, RequestBin
from tenants.console import console_site
from tenants.models import ApiKey, AuditEvent
from tests.factories import (
    AdaptorFactory,
    CallLogFactory,
    CampaignFactory,
    DeliveryFactory,
    EndpointFactory,
    InboundHandlerFactory,
    LeadFactory,
    RequestBinFactory,
)
from tests.security.support import tenant_state

pytestmark = pytest.mark.django_db

MARK_B = "bravosecret"  # in the name of every object of tenant B
MARK_A = "acmeown"  # in the name of every object of tenant A (proves pages list real rows)
MISSING_ID = 2_000_000_000


def _lead(tenant, tag):
    fields = {"first_name": tag, "email": f"{tag}@example.com", "phone": "+14155550100"}
    return LeadFactory(tenant=tenant, fields=fields)


def _endpoint(tenant, tag):
    return EndpointFactory(
        tenant=tenant, name=f"{tag} endpoint", adaptor=AdaptorFactory(tenant=tenant, name=tag)
    )


def _handler(tenant, tag):
    campaign = CampaignFactory(tenant=tenant, name=f"{tag} handler campaign")
    return InboundHandlerFactory(tenant=tenant, name=f"{tag} handler", campaign=campaign)


MAKERS: dict[type[models.Model], Callable] = {
    ApiKey: lambda t, tag: ApiKey.issue(t, f"{tag} key")[0],
    AuditEvent: lambda t, tag: AuditEvent.objects.create(
        tenant=t,
        actor=f"{tag}@example.com",
        action="update",
        object_type="leads.campaign",
        object_id="1",
        object_repr=f"{tag} audited",
        before={"name": tag},
        after={"name": tag},
    ),
    LeadField: lambda t, tag: LeadField.objects.create(
        tenant=t, name=f"{tag}_field", label=f"{tag} field"
    ),
    Campaign: lambda t, tag: CampaignFactory(tenant=t, name=f"{tag} campaign"),
    Lead: lambda t, tag: _lead(t, tag),
    Adaptor: lambda t, tag: AdaptorFactory(tenant=t, name=f"{tag} adaptor"),
    Endpoint: _endpoint,
    CallLog: lambda t, tag: CallLogFactory(
        tenant=t, endpoint=_endpoint(t, tag), result=f"{tag} result"
    ),
    InboundCall: lambda t, tag: InboundCall.objects.create(
        tenant=t,
        handler=_handler(t, tag),
        method="POST",
        status="accepted",
        raw_body=f'{{"who": "{tag}"}}',
        response_body=tag,
    ),
    Delivery: lambda t, tag: DeliveryFactory(
        tenant=t, lead=_lead(t, tag), endpoint=_endpoint(t, tag), last_error=f"{tag} error"
    ),
    InboundHandler: _handler,
    RequestBin: lambda t, tag: RequestBinFactory(tenant=t, name=f"{tag} bin"),
    BinRequest: lambda t, tag: BinRequest.objects.create(
        tenant=t,
        bin=RequestBinFactory(tenant=t, name=f"{tag} request bin"),
        method="POST",
        path=f"/{tag}",
        body=tag,
    ),
}
_serial = itertools.count(1)


def make(model, tenant, mark: str):
    """A fresh object of ``model`` for ``tenant`` whose names all contain ``mark``."""
    return MAKERS[model](tenant, f"{mark}{next(_serial)}")


REGISTERED = sorted(console_site._registry, key=lambda m: m._meta.label)


def admin_url(model, suffix: str = "") -> str:
    return f"/console/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def test_every_registered_model_is_covered():
    assert set(REGISTERED) <= set(MAKERS), set(REGISTERED) - set(MAKERS)


# ---- object URLs -----------------------------------------------------------------------------


def object_urls(model, pk) -> list[str]:
    """Every URL of the model's console admin that names one object (change, delete, history,
    the bare id and any custom object URL), generated from the admin's own URL patterns."""
    urls = []
    for pattern in console_site._registry[model].get_urls():
        route = str(pattern.pattern)
        if "<path:object_id>" in route:
            urls.append(admin_url(model, route.replace("<path:object_id>", str(pk))))
    assert urls, f"{model._meta.label} has no object URLs"
    return urls


def _status(client, method: str, url: str) -> int:
    response = getattr(client, method)(url, follow=True)
    return response.status_code


@pytest.mark.parametrize("model", REGISTERED, ids=[m._meta.label for m in REGISTERED])
def test_another_tenants_object_is_not_found_on_every_console_url(world, owner, model):
    theirs = make(model, world.b, MARK_B)
    mine = make(model, world.a, MARK_A)
    before = tenant_state(world.b)

    problems = []
    for url_b, url_mine in zip(
        object_urls(model, theirs.pk), object_urls(model, mine.pk), strict=True
    ):
        url_missing = url_b.replace(f"/{theirs.pk}/", f"/{MISSING_ID}/", 1)
        for method in ("get", "post"):
            got = _status(owner, method, url_b)
            if got == 404:
                continue
            # A page nobody may use (403 for one's own object too, e.g. deleting a log) may
            # answer 403, but then exactly as for an id that does not exist: the answer must
            # say nothing about the other tenant's rows.
            missing = _status(owner, method, url_missing)
            own = _status(owner, method, url_mine)
            if not (got == missing == own == 403):
                problems.append(f"{method.upper()} {url_b}: {got} (missing id {missing})")
    assert problems == []
    assert tenant_state(world.b) == before


# ---- forms, list filters and autocomplete ------------------------------------------------------


@pytest.fixture
def both_worlds(world):
    """Every console model with objects in both tenants."""
    mine = {model: make(model, world.a, MARK_A) for model in REGISTERED}
    for model in REGISTERED:
        make(model, world.b, MARK_B)
    return mine


def _pages_of(model, own) -> list[str]:
    admin = console_site._registry[model]
    pages = [admin_url(model), admin_url(model, f"{own.pk}/change/")]
    if any(str(p.pattern) == "add/" for p in admin.get_urls()):
        pages.append(admin_url(model, "add/"))
    return pages


def test_no_console_page_offers_another_tenants_objects(world, owner, both_worlds):
    """Add and change forms (adaptor, campaign, endpoint, bin pickers; the condition builder's
    field names) and list pages with their filters, for every registered model."""
    shown_a = set()
    leaks = []
    for model in REGISTERED:
        for url in _pages_of(model, both_worlds[model]):
            response = owner.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)
            html = response.content.decode(errors="replace")
            if MARK_B in html:
                leaks.append(url)
            if MARK_A in html:
                shown_a.add(url)
    assert leaks == []
    # The pages do list tenant A's objects (so the check above could have failed).
    assert {admin_url(Endpoint, "add/"), admin_url(InboundHandler, "add/")} <= shown_a


def _fk_fields():
    """(source model, field name, target model) for every relation between console models."""
    found = []
    for model in REGISTERED:
        for fld in model._meta.get_fields():
            if (
                fld.is_relation
                and fld.concrete
                and (fld.many_to_one or fld.many_to_many)
                and fld.related_model in console_site._registry
            ):
                found.append((model, fld.name, fld.related_model))
    return found


def test_form_pickers_list_only_the_tenants_own_objects(world, owner, both_worlds):
    """Each relation's <select> on the add form holds tenant A's rows and none of B's."""
    checked = 0
    for model, name, _target in _fk_fields():
        response = owner.get(admin_url(model, "add/"))
        if response.status_code != 200 or "adminform" not in (response.context or {}):
            continue
        form = response.context["adminform"].form
        if name not in form.fields or not hasattr(form.fields[name], "queryset"):
            continue
        choices = set(form.fields[name].queryset.values_list("tenant_id", flat=True))
        assert choices == {world.a.pk}, (model._meta.label, name, choices)
        checked += 1
    assert checked >= 3  # endpoint.adaptor, endpoint.campaigns, handler.campaign at least


def test_autocomplete_never_lists_another_tenants_objects(world, owner, both_worlds):
    checked = 0
    for model, name, target in _fk_fields():
        if not console_site._registry[target].get_search_fields(None):
            continue
        query = urlencode(
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": name,
                "term": "",
            }
        )
        response = owner.get(f"/console/autocomplete/?{query}")
        if response.status_code != 200:
            continue
        ids = {int(row["id"]) for row in response.json()["results"]}
        theirs = set(target.objects.filter(tenant=world.b).values_list("pk", flat=True))
        assert ids and not ids & theirs, (model._meta.label, name)
        checked += 1
    assert checked >= 1


# ---- bulk actions ----------------------------------------------------------------------------

_ACTION_OPTION = re.compile(r'<option value="([a-z_]+)"')


def _actions_offered(owner, model) -> list[str]:
    html = owner.get(admin_url(model)).content.decode(errors="replace")
    select = re.search(r'<select name="action".*?</select>', html, re.S)
    return _ACTION_OPTION.findall(select.group(0)) if select else []


def test_bulk_actions_ignore_another_tenants_ids(world, owner):
    """Every action the console offers, posted by A with B's ids (alone, and mixed with A's
    own): none of B's rows change; with A's own id the action runs (delete really deletes)."""
    ran = []
    for model in REGISTERED:
        make(model, world.a, MARK_A)  # the list offers actions only when it has rows
        for action in _actions_offered(owner, model):
            theirs = make(model, world.b, MARK_B)
            mine = make(model, world.a, MARK_A)
            before = tenant_state(world.b)
            for selected in ([theirs.pk], [theirs.pk, mine.pk]):
                response = owner.post(
                    admin_url(model),
                    {"action": action, "_selected_action": selected, "index": 0, "post": "yes"},
                )
                assert response.status_code in (200, 302), (model, action, response.status_code)
            assert tenant_state(world.b) == before, f"{model._meta.label}.{action} changed B"
            if action == "delete_selected":
                assert not model.objects.filter(pk=mine.pk).exists(), model._meta.label
            ran.append(f"{model._meta.label}.{action}")
    assert {
        "tenants.ApiKey.revoke",
        "deliveries.Delivery.retry_selected",
        "deliveries.Delivery.cancel_selected",
        "sandbox.RequestBin.clear_requests",
        "leads.Campaign.delete_selected",
    } <= set(ran), ran


# ---- the extra console pages (/console/x/…) ---------------------------------------------------

# Which model the <int:pk> of an extra console URL names, by route prefix.
EXTRA_OWNERS: dict[str, type[models.Model]] = {
    "endpoints/": Endpoint,
    "deliveries/": Delivery,
    "inbound/handlers/": InboundHandler,
    "logs/endpoints/": Endpoint,
    "logs/handlers/": InboundHandler,
}


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def extra_object_routes() -> list[str]:
    from config import console_urls

    return [r for r in _walk(console_urls.urlpatterns) if "<int:" in r]


def _owner_of(route: str) -> type[models.Model]:
    return next(m for prefix, m in EXTRA_OWNERS.items() if route.startswith(prefix))


def test_every_extra_console_page_with_an_id_is_covered():
    uncovered = [r for r in extra_object_routes() if not any(map(r.startswith, EXTRA_OWNERS))]
    assert extra_object_routes() and uncovered == []


def _fill(route: str, pk: int, call_id: int | None) -> str:
    url = route.replace("<int:pk>", str(pk))
    if "<int:call_id>" in url:
        url = url.replace("<int:call_id>", str(call_id))
    assert "<" not in url, route
    return "/console/x/" + url


@pytest.mark.parametrize("route", extra_object_routes())
def test_extra_console_pages_answer_404_for_another_tenants_ids(world, owner, route):
    model = _owner_of(route)
    theirs = make(model, world.b, MARK_B)
    mine = make(model, world.a, MARK_A)
    call_b = make(InboundCall, world.b, MARK_B)
    call_a = InboundCall.objects.create(
        tenant=world.a,
        handler=mine if model is InboundHandler else _handler(world.a, MARK_A),
        method="POST",
        status="accepted",
    )
    before = tenant_state(world.b)
    own_url = _fill(route, mine.pk, call_a.pk)
    method = "get" if owner.get(own_url).status_code != 405 else "post"

    # Sanity: the page works for tenant A's own ids (so a 404 below means something).
    assert getattr(owner, method)(own_url).status_code in (200, 302)
    foreign = [_fill(route, theirs.pk, call_b.pk)]
    if "<int:call_id>" in route:  # A's handler with B's call
        foreign.append(_fill(route, mine.pk, call_b.pk))
    for url in foreign:
        assert getattr(owner, method)(url).status_code == 404, url
    assert tenant_state(world.b) == before
