"""Posting instructions for a handler: what a lead supplier needs to call it.

One builder serves ``GET /api/v1/inbound-handlers/{id}/spec/`` and the console page.
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from .config import sample_from_template
from .models import BodyType, HandlerMethod, InboundHandler
from .params import lead_values
from .parsing import ACCEPTED_TYPES
from .responses import default_body
from .security import max_bytes

SAMPLE_VALUES = {
    "email": "ada@example.com",
    "phone": "+14155550100",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "state": "CA",
    "zip_code": "94105",
    "city": "San Francisco",
    "address": "1 Main St",
    "country": "US",
    "ip_address": "203.0.113.7",
}
TYPE_SAMPLES = {"integer": 42, "number": 4.5, "boolean": True, "array": ["a", "b"]}
IDENTITY_RULE = (
    "A POST updates the tenant's existing lead with the same email (or, failing that, the same "
    "phone); otherwise it creates a lead. An updated lead is not distributed again."
)


def _lead_field_of(handler: InboundHandler, name: str) -> str | None:
    for mapping in handler.mappings or ():
        if mapping.get("parameter") == name:
            return mapping.get("lead_field")
    return None if handler.mappings else name


def parameters(handler: InboundHandler) -> list[dict]:
    return [
        {
            "name": p["name"],
            "type": p.get("type") or "text",
            "required": bool(p.get("required")),
            "lead_field": _lead_field_of(handler, p["name"]),
        }
        for p in handler.parameters or ()
    ]


def _sample_value(parameter: dict):
    field = parameter.get("lead_field") or ""
    if field in SAMPLE_VALUES:
        return SAMPLE_VALUES[field]
    return TYPE_SAMPLES.get(parameter["type"], f"example {parameter['name'].rsplit('.', 1)[-1]}")


def _nest(flat: dict) -> dict:
    """``{"contact.email": x}`` → ``{"contact": {"email": x}}``."""
    nested: dict = {}
    for path, value in flat.items():
        node = nested
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return nested


def example_data(handler: InboundHandler) -> dict:
    """An example request's data: the saved sample when there is one, else one value per
    parameter (by its lead field when known, else by type)."""
    sample = sample_from_template(handler.json_template or "")
    if isinstance(sample, dict):
        return sample
    flat = {p["name"]: _sample_value(p) for p in parameters(handler)}
    if not flat:
        flat = {name: SAMPLE_VALUES[name] for name in ("first_name", "email", "phone")}
    return flat if handler.body_type == BodyType.FORM else _nest(flat)


def _xml(data, tag: str = "lead") -> str:
    if isinstance(data, dict):
        inner = "".join(_xml(value, str(key)) for key, value in data.items())
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(data, list):
        return "".join(_xml(item, tag) for item in data)
    text = json.dumps(data) if isinstance(data, bool) else str(data)
    return f"<{tag}>{escape(text)}</{tag}>"


def _form_pairs(data: dict) -> list[tuple[str, str]]:
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, json.dumps(item) if isinstance(item, bool) else str(item)))
    return pairs


def example_body(handler: InboundHandler) -> tuple[str, str]:
    """``(content type, body)`` of an example POST."""
    data = example_data(handler)
    if handler.body_type == BodyType.XML:
        return "application/xml", '<?xml version="1.0" encoding="UTF-8"?>' + _xml(data)
    if handler.body_type == BodyType.FORM:
        return "application/x-www-form-urlencoded", urlencode(_form_pairs(data))
    return "application/json", json.dumps(data, indent=2)


def signing(handler: InboundHandler) -> dict | None:
    if not handler.secret:
        return None
    return {
        "scheme": "Standard Webhooks (https://www.standardwebhooks.com)",
        "headers": {
            "webhook-id": "a unique id per message (reuse it when retrying)",
            "webhook-timestamp": "integer seconds since the epoch, within 5 minutes of our clock",
            "webhook-signature": 'v1,<base64 of HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>',
        },
        "key": "the bytes of the base64 part of the whsec_… secret you were given",
        "tolerance_seconds": 300,
        "failure": "401 with a JSON message when the signature is missing, wrong or stale",
        "python": (
            "import base64, hashlib, hmac, time, uuid\n"
            "key = base64.b64decode(secret.removeprefix('whsec_'))\n"
            "msg_id, ts = str(uuid.uuid4()), str(int(time.time()))\n"
            "sig = base64.b64encode(hmac.new(key, f'{msg_id}.{ts}.'.encode() + body, "
            "hashlib.sha256).digest()).decode()\n"
            "headers = {'webhook-id': msg_id, 'webhook-timestamp': ts, "
            "'webhook-signature': 'v1,' + sig}"
        ),
    }


def curl(handler: InboundHandler, url: str) -> str:
    parts = ["curl", "-sS"]
    signed = []
    if handler.secret:
        signed = [
            "-H",
            "webhook-id: msg_123",
            "-H",
            "webhook-timestamp: $(date +%s)",
            "-H",
            "webhook-signature: v1,<signature>",
        ]
    if handler.method == HandlerMethod.GET:
        query = urlencode(_form_pairs(_lookup_example(handler)))
        return " ".join([*parts, *map(_quote, signed), _quote(f"{url}?{query}" if query else url)])
    content_type, body = example_body(handler)
    return " ".join(
        [
            *parts,
            "-X",
            "POST",
            _quote(url),
            "-H",
            _quote(f"Content-Type: {content_type}"),
            *map(_quote, signed),
            "--data-binary",
            _quote(body),
        ]
    )


def _quote(text: str) -> str:
    # Keep $(date +%s) live for the shell; quote everything else.
    if "$(date" in text:
        return '"' + text.replace('"', '\\"') + '"'
    return shlex.quote(text)


def _lookup_example(handler: InboundHandler) -> dict:
    flat = {p["name"]: _sample_value(p) for p in parameters(handler) if p.get("lead_field")}
    return flat or {"email": SAMPLE_VALUES["email"]}


def example_responses(handler: InboundHandler) -> dict:
    response = handler.response or {}
    error = {
        "status_code": 400,
        "content_type": "application/json",
        "body": json.dumps(
            {
                "status": "error",
                "error": "Invalid parameters: email: This parameter is required.",
                "errors": {"email": ["This parameter is required."]},
            }
        ),
    }
    ignored = {
        "status_code": 200,
        "content_type": "application/json",
        "body": json.dumps({"status": "ignored"}),
    }
    if handler.method == HandlerMethod.GET:
        fields = lead_values(handler.mappings or (), _lookup_example(handler))
        return {
            "found": {
                "status_code": int(response.get("status_code") or 200),
                "content_type": response.get("content_type") or "application/json",
                "body": response.get("body")
                or json.dumps({"status": "found", "lead_id": 123, "fields": fields}),
            },
            "not_found": {
                "status_code": 404,
                "content_type": "application/json",
                "body": json.dumps({"status": "not_found"}),
            },
            "ignored": ignored,
            "error": error,
        }
    accepted = {
        "status_code": int(response.get("status_code") or 201),
        "content_type": response.get("content_type") or "application/json",
        "body": response.get("body") or default_body("accepted", 123),
        "templated": bool(response.get("body")),
    }
    return {
        "accepted": accepted,
        "duplicate": {
            **accepted,
            "note": (
                f"An identical call (same body and query) within "
                f"{handler.protection_period_seconds} s gets the original answer again and "
                "creates nothing."
                if handler.protection_period_seconds
                else "Duplicate protection is off (protection period 0): every call is stored."
            ),
        },
        "ignored": ignored,
        "error": error,
    }


def build_spec(handler: InboundHandler, request=None) -> dict:
    """Everything a caller needs, as JSON."""
    url = handler.public_url(request)
    content_types = list(ACCEPTED_TYPES[handler.body_type])
    spec = {
        "name": handler.name,
        "description": handler.description,
        "url": url,
        "method": handler.method,
        "body_type": handler.body_type,
        "content_types": content_types if handler.method == HandlerMethod.POST else [],
        "parameters": parameters(handler),
        "max_body_bytes": max_bytes(),
        "protection_period_seconds": handler.protection_period_seconds,
        "allowed_ips": list(handler.allowed_ips or ()),
        "signing": signing(handler),
        "identity_rule": IDENTITY_RULE if handler.method == HandlerMethod.POST else None,
        "example_request": {"curl": curl(handler, url)},
        "example_responses": example_responses(handler),
        "other_statuses": {
            "401": "signature missing, wrong or stale (when a secret is set)",
            "403": "the caller's IP address is not in the allow list",
            "404": "unknown or inactive handler",
            "405": f"any method other than {handler.method}",
            "413": f"body over {max_bytes()} bytes",
            "503": "temporarily unavailable; retry later (nothing was stored)",
        },
    }
    if handler.method == HandlerMethod.POST:
        content_type, body = example_body(handler)
        spec["example_request"].update({"content_type": content_type, "body": body})
    return spec
