"""Fixtures for the inbound tests: handlers, signed requests and a client for /hooks/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from leads.models import Campaign
from tests.factories import CampaignFactory, InboundHandlerFactory

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()

CONTACT_PARAMETERS = [
    {"name": "contact.email", "type": "text", "required": True},
    {"name": "contact.phone", "type": "text"},
    {"name": "first", "type": "text"},
    {"name": "age", "type": "integer"},
]
CONTACT_MAPPINGS = [
    {"parameter": "contact.email", "lead_field": "email"},
    {"parameter": "contact.phone", "lead_field": "phone"},
    {"parameter": "first", "lead_field": "first_name"},
    {"parameter": "age", "lead_field": "age"},
]


def sign(secret: str, body: bytes, msg_id: str = "msg_1", timestamp: int | None = None) -> dict:
    """Standard Webhooks headers computed independently of the code under test (API.md)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": ts,
        "HTTP_WEBHOOK_SIGNATURE": "v1," + base64.b64encode(digest).decode(),
    }


@pytest.fixture
def campaign(world) -> Campaign:
    return CampaignFactory(tenant=world.a, name="Solar")


@pytest.fixture
def make_handler(world, campaign):
    """A handler of tenant A: JSON, the contact parameters and mappings, unless overridden."""

    def make(**overrides):
        values = {
            "tenant": world.a,
            "campaign": campaign,
            "parameters": CONTACT_PARAMETERS,
            "mappings": CONTACT_MAPPINGS,
        }
        values.update(overrides)
        return InboundHandlerFactory(**values)

    return make


class Hooks:
    """Posts to a handler's public URL with the Django test client (full middleware stack)."""

    def __init__(self):
        self.client = Client()

    def post(self, handler, body, content_type="application/json", **extra):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        if isinstance(data, str):
            data = data.encode()
        extra.setdefault("CONTENT_TYPE", content_type)
        return self.client.generic("POST", handler.path, data, content_type=content_type, **extra)

    def get(self, handler, query: str = "", **extra):
        return self.client.generic("GET", handler.path, QUERY_STRING=query, **extra)


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()
