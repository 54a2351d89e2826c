"""factory_boy factories for every model; each tenant-owned factory takes ``tenant=``."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from adaptors.models import Adaptor
from deliveries.models import Delivery
from endpoints.models import Endpoint
from inbound.models import InboundHandler
from leads.models import Campaign, Lead
from logs.models import CallLog
from sandbox.models import RequestBin
from tenants.models import ApiKey, Membership, Role, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Tenant {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")


def member(tenant: Tenant, role: str = Role.ADMIN):
    user = UserFactory()
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def api_key(tenant: Tenant, role: str = Role.ADMIN) -> str:
    return ApiKey.issue(tenant, f"key-{role}", role)[1]


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    tenant = factory.SubFactory(TenantFactory)
    campaign = None
    fields = factory.LazyFunction(
        lambda: {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+14155550100",
            "state": "CA",
            "zip_code": "94105",
        }
    )

    @factory.post_generation
    def sync(obj, create, extracted, **kwargs):
        obj.sync_indexed()
        if create:
            obj.save()


class AdaptorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Adaptor

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Adaptor {n}")
    mappings = factory.LazyFunction(
        lambda: [
            {"source": "first_name", "target": "first"},
            {"source": "phone", "target": "phone"},
        ]
    )


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Endpoint

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Endpoint {n}")
    url = "http://127.0.0.1:9/never"
    adaptor = factory.LazyAttribute(lambda o: AdaptorFactory(tenant=o.tenant))
    timeout_seconds = 5


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    tenant = factory.SubFactory(TenantFactory)
    lead = factory.LazyAttribute(lambda o: LeadFactory(tenant=o.tenant))
    endpoint = factory.LazyAttribute(lambda o: EndpointFactory(tenant=o.tenant))


class CallLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallLog

    tenant = factory.SubFactory(TenantFactory)
    endpoint = factory.LazyAttribute(lambda o: EndpointFactory(tenant=o.tenant))
    outcome = "accepted"
    result = "ok"
    phone = "+14155550100"
    request = factory.LazyFunction(
        lambda: {"method": "POST", "url": "http://x/", "headers": {}, "body": ""}
    )
    response = factory.LazyFunction(lambda: {"status_code": 200, "headers": {}, "body": "{}"})
    duration_ms = 12


class InboundHandlerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundHandler

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Handler {n}")


class RequestBinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestBin

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Bin {n}")


def handler_form_data(**overrides) -> dict:
    """A valid console add/change form for an inbound handler, with ``overrides`` applied."""
    data = {
        "name": "Partner",
        "description": "",
        "active": "on",
        "method": "POST",
        "body_type": "json",
        "campaign": "",
        "json_template": "",
        "parameters": "[]",
        "mappings": "[]",
        "protection_period_seconds": "0",
        "conditions": "null",
        "response": "{}",
        "actions": '[{"type": "distribute"}]',
        "allowed_ips": "[]",
        "secret": "",
        "_save": "Save",
    }
    return data | overrides
