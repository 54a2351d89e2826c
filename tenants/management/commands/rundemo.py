"""rundemo [--addr 127.0.0.1] [--port 8000] [--json] [--no-serve]

The embedded demo behind ``make run``: migrate, make sure a demo tenant exists with everything a
lead needs to travel end to end (inbound handler → campaign → endpoint → request bin), print how
to log in and send a lead, then serve the console and API with the delivery engine running in
this process. Running it again reuses the demo objects; it only issues a fresh password and API
key (neither is stored in clear, so they cannot be shown twice).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from adaptors.models import Adaptor
from endpoints.models import Endpoint
from inbound.models import InboundHandler
from leads.models import Campaign
from sandbox.models import RequestBin
from tenants.models import ApiKey, Membership, Role, Tenant

DEMO_SLUG = "demo"
DEMO_NAME = "Demo"
DEMO_LOGIN = "demo@example.com"
CAMPAIGN_NAME = "Demo campaign"
BIN_NAME = "Demo request bin"
ADAPTOR_NAME = "Demo adaptor"
ENDPOINT_NAME = "Demo endpoint (request bin)"
HANDLER_NAME = "Demo web form (JSON)"

# What the demo handler receives: a nested JSON body, to show dotted parameter names.
SAMPLE_BODY = {
    "contact": {
        "first": "Ada",
        "last": "Lovelace",
        "email": "ada@example.com",
        "phone": "(415) 555-2671",
    },
    "address": {"state": "CA", "zip": "94105"},
}
HANDLER_MAPPINGS = [
    ("contact.first", "first_name"),
    ("contact.last", "last_name"),
    ("contact.email", "email"),
    ("contact.phone", "phone"),
    ("address.state", "state"),
    ("address.zip", "zip_code"),
]
ADAPTOR_MAPPINGS = [
    {"source": "first_name", "target": "firstName"},
    {"source": "last_name", "target": "lastName"},
    {"source": "email", "target": "email"},
    {"source": "phone", "target": "phone"},
    {"source": "state", "target": "address.state"},
    {"source": "zip_code", "target": "address.zip"},
]


@dataclass
class Demo:
    tenant: Tenant
    login: str
    password: str
    api_key: str
    campaign: Campaign
    bin: RequestBin
    adaptor: Adaptor
    endpoint: Endpoint
    handler: InboundHandler


def local_base_url(addr: str, port: int) -> str:
    """The URL this process answers on, as seen from this machine."""
    host = "127.0.0.1" if addr in ("", "0.0.0.0", "::", "[::]") else addr
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _owner(tenant: Tenant) -> tuple[str, str]:
    """The demo owner with a fresh password; answers ``(login, password)``."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_LOGIN).first()
    if user is None:
        user = User.objects.create_user(username=DEMO_LOGIN, email=DEMO_LOGIN)
    membership = Membership.objects.filter(user=user).first()
    if membership is not None and membership.tenant_id != tenant.pk:
        raise CommandError(f"User {DEMO_LOGIN} belongs to another tenant; the demo cannot use it.")
    Membership.objects.update_or_create(user=user, defaults={"tenant": tenant, "role": Role.OWNER})
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.is_active = True
    user.save()
    return DEMO_LOGIN, password


def _bin(tenant: Tenant) -> RequestBin:
    bin, _ = RequestBin.objects.get_or_create(
        tenant=tenant,
        name=BIN_NAME,
        defaults={"response_body": '{"success": true, "id": "demo-accepted"}'},
    )
    return bin


def _endpoint(tenant: Tenant, campaign: Campaign, adaptor: Adaptor, bin_url: str) -> Endpoint:
    endpoint = Endpoint.objects.filter(tenant=tenant, name=ENDPOINT_NAME).first()
    if endpoint is None:
        endpoint = Endpoint.objects.create(
            tenant=tenant,
            name=ENDPOINT_NAME,
            category="custom",
            method="POST",
            url=bin_url,
            sandbox_url=bin_url,
            content_type="json",
            response_format="json",
            timeout_seconds=10,
            adaptor=adaptor,
            retry={"max_attempts": 3, "backoff_seconds": 5},
        )
        endpoint.campaigns.set([campaign])
    elif endpoint.url != bin_url or endpoint.sandbox_url != bin_url:
        # Served on another port than last time: keep the demo delivering to this process.
        endpoint.url = endpoint.sandbox_url = bin_url
        endpoint.save(update_fields=["url", "sandbox_url", "updated_at"])
    return endpoint


def _handler(tenant: Tenant, campaign: Campaign) -> InboundHandler:
    handler, _ = InboundHandler.objects.get_or_create(
        tenant=tenant,
        name=HANDLER_NAME,
        defaults={
            "description": "Posts a JSON lead; mapped to the standard lead fields.",
            "method": "POST",
            "body_type": "json",
            "json_template": json.dumps(SAMPLE_BODY, indent=2),
            "parameters": [
                {"name": param, "type": "text", "required": False} for param, _ in HANDLER_MAPPINGS
            ],
            "mappings": [
                {"parameter": param, "lead_field": field} for param, field in HANDLER_MAPPINGS
            ],
            "campaign": campaign,
            "actions": [{"type": "distribute"}],
        },
    )
    return handler


def ensure_demo(base_url: str) -> Demo:
    """Create the demo objects, or reuse them; issue a fresh password and API key."""
    with transaction.atomic():
        tenant, _ = Tenant.objects.get_or_create(slug=DEMO_SLUG, defaults={"name": DEMO_NAME})
        login, password = _owner(tenant)
        _, api_key = ApiKey.issue(tenant, "demo (rundemo)")
        campaign, _ = Campaign.objects.get_or_create(tenant=tenant, name=CAMPAIGN_NAME)
        bin = _bin(tenant)
        adaptor, _ = Adaptor.objects.get_or_create(
            tenant=tenant,
            name=ADAPTOR_NAME,
            defaults={
                "mappings": ADAPTOR_MAPPINGS,
                "constants": [{"name": "source", "value": "lead-hub-demo"}],
            },
        )
        endpoint = _endpoint(tenant, campaign, adaptor, base_url + bin.path)
        handler = _handler(tenant, campaign)
    return Demo(tenant, login, password, api_key, campaign, bin, adaptor, endpoint, handler)


def public_base(base_url: str) -> str:
    return (settings.HUB_PUBLIC_URL or base_url).rstrip("/")


def summary(demo: Demo, base_url: str) -> dict:
    """Everything an operator (or a test) needs to use the demo, as plain values."""
    public = public_base(base_url)
    return {
        "tenant": demo.tenant.slug,
        "console": f"{public}/console/",
        "login": demo.login,
        "password": demo.password,
        "api_key": demo.api_key,
        "api_docs": f"{public}/api/v1/docs/",
        "campaign": demo.campaign.pk,
        "endpoint": demo.endpoint.pk,
        "request_bin": demo.bin.pk,
        "request_bin_url": f"{public}{demo.bin.path}",
        "inbound_handler": demo.handler.pk,
        "hook_url": f"{public}{demo.handler.path}",
        "sample_body": SAMPLE_BODY,
    }


def curl_hook(info: dict) -> str:
    return (
        f"curl -X POST {shlex.quote(info['hook_url'])} \\\n"
        "       -H 'Content-Type: application/json' \\\n"
        f"       -d {shlex.quote(json.dumps(info['sample_body']))}"
    )


def curl_api(info: dict) -> str:
    body = {
        "campaign": info["campaign"],
        "fields": {"first_name": "Grace", "last_name": "Hopper", "phone": "(202) 555-0143"},
    }
    return (
        f"curl -X POST {shlex.quote(info['console'].replace('/console/', '/api/v1/leads/'))} \\\n"
        f"       -H {shlex.quote('Authorization: Bearer ' + info['api_key'])} \\\n"
        "       -H 'Content-Type: application/json' \\\n"
        f"       -d {shlex.quote(json.dumps(body))}"
    )


def banner(info: dict) -> str:
    console = info["console"]
    return "\n".join(
        [
            "",
            "Lead hub demo is ready.",
            "",
            f"  Console    {console}",
            f"  Login      {info['login']}",
            f"  Password   {info['password']}   (a new one on every start of the demo)",
            f"  API key    {info['api_key']}   (a fresh key on every start)",
            f"  API docs   {info['api_docs']}",
            "",
            "Send a lead to the demo inbound handler:",
            "",
            "  " + curl_hook(info),
            "",
            "It is stored, routed to the demo endpoint and delivered to the demo request bin:",
            f"  Leads        {console}leads/lead/",
            f"  Deliveries   {console}deliveries/delivery/",
            f"  Request bin  {console}sandbox/requestbin/{info['request_bin']}/change/",
            "",
            "Or create a lead through the API:",
            "",
            "  " + curl_api(info),
            "",
        ]
    )


def _explicit(name: str) -> bool:
    return name in os.environ


def apply_demo_settings(out) -> None:
    """Settings the demo needs that the environment did not decide.

    The demo endpoint posts to a request bin on 127.0.0.1, which the SSRF guard refuses unless
    private destinations are allowed; and without Redis the delivery engine must run in this
    process. An explicit environment variable always wins.
    """
    if not _explicit("HUB_ALLOW_PRIVATE_DESTINATIONS"):
        settings.HUB_ALLOW_PRIVATE_DESTINATIONS = True
    if not _explicit("HUB_EMBEDDED_ENGINE") and not settings.REDIS_URL:
        settings.HUB_EMBEDDED_ENGINE = True
    if not settings.HUB_ALLOW_PRIVATE_DESTINATIONS:
        out.write(
            "Note: HUB_ALLOW_PRIVATE_DESTINATIONS is off, so the demo endpoint (on 127.0.0.1) "
            "will be refused by the SSRF guard."
        )


def start_delivery_engine(out) -> None:
    """Start the dispatcher and sender in a thread of this process (the embedded engine)."""
    from deliveries.dispatcher import start_embedded_engine

    if start_embedded_engine() is None:
        out.write(
            "Note: the embedded delivery engine is off (HUB_EMBEDDED_ENGINE); deliveries wait "
            "for a Celery worker and dispatcher."
        )


class Command(BaseCommand):
    help = "Run the embedded demo: migrate, create the demo tenant, print how to use it, serve."
    requires_system_checks = []  # runserver runs them before serving

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1", help="address to serve on")
        parser.add_argument("--port", type=int, default=8000, help="port to serve on")
        parser.add_argument(
            "--json", action="store_true", help="also print the demo details as one JSON line"
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="set the demo up and print it, then exit"
        )

    def handle(self, *args, **opts):
        if not 0 < opts["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        call_command("migrate", interactive=False, verbosity=0)
        base_url = local_base_url(opts["addr"], opts["port"])
        info = summary(ensure_demo(base_url), base_url)
        if opts["json"]:
            self.stdout.write(json.dumps(info))
        self.stdout.write(banner(info))
        self.stdout.flush()
        if opts["no_serve"]:
            return
        apply_demo_settings(self.stdout)
        start_delivery_engine(self.stdout)
        self.stdout.flush()
        addr = opts["addr"]
        addrport = f"[{addr}]:{opts['port']}" if ":" in addr else f"{addr}:{opts['port']}"
        call_command(
            "runserver",
            addrport,
            use_reloader=False,
            use_threading=True,
            insecure_serving=True,  # DEBUG is off: serve the console's static files anyway
            use_ipv6=":" in addr,
        )
