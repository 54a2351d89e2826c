"""Pre-built integrations: an adaptor and an endpoint from a few credentials.

Each preset is a working endpoint once its credentials are filled in. ``build(credentials)``
returns the adaptor fields and the endpoint API payload (validated later by the same serializer
as any endpoint); :func:`endpoints.services.create_from_preset` saves both in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

STANDARD = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "zip_code",
    "country",
)


class PresetError(ValueError):
    """Bad preset input, keyed like a DRF error: ``{"credentials": {"token": ["…"]}}``."""

    def __init__(self, errors: Mapping):
        super().__init__(str(errors))
        self.errors = dict(errors)


@dataclass(frozen=True)
class Credential:
    name: str
    label: str
    required: bool = True
    secret: bool = True
    help: str = ""


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    description: str
    category: str
    method: str
    content_type: str
    default_url: str  # "" = the operator gives the URL
    credentials: tuple[Credential, ...]
    build: Callable[[Mapping[str, str]], tuple[dict, dict]] = field(repr=False)
    url_help: str = ""


def _mappings(targets: Mapping[str, str]) -> list[dict]:
    return [{"source": source, "target": target} for source, target in targets.items()]


def _same_names() -> list[dict]:
    return _mappings({name: name for name in STANDARD})


def _hubspot(creds: Mapping[str, str]) -> tuple[dict, dict]:
    adaptor = {
        "mappings": _mappings(
            {
                "first_name": "properties.firstname",
                "last_name": "properties.lastname",
                "email": "properties.email",
                "phone": "properties.phone",
                "address": "properties.address",
                "city": "properties.city",
                "state": "properties.state",
                "zip_code": "properties.zip",
                "country": "properties.country",
            }
        )
    }
    endpoint = {
        "category": "crm",
        "method": "POST",
        "content_type": "json",
        "auth": {"type": "bearer", "token": creds["token"]},
        "response_format": "json",
        "success": None,  # HubSpot answers 201 with the contact; any 2xx is success
        "capture": [{"path": "$.id", "lead_field": "hubspot_contact_id"}],
        "reject_reason_path": "$.message",
    }
    return adaptor, endpoint


def _salesforce(creds: Mapping[str, str]) -> tuple[dict, dict]:
    constants = [{"name": "oid", "value": creds["oid"]}]
    if creds.get("lead_source"):
        constants.append({"name": "lead_source", "value": creds["lead_source"]})
    adaptor = {
        "mappings": _mappings(
            {
                "first_name": "first_name",
                "last_name": "last_name",
                "email": "email",
                "phone": "phone",
                "address": "street",
                "city": "city",
                "state": "state",
                "zip_code": "zip",
                "country": "country",
            }
        ),
        "constants": constants,
    }
    # Web-to-Lead always answers 200 with an HTML page; there is nothing more to check.
    endpoint = {
        "category": "crm",
        "method": "POST",
        "content_type": "form",
        "response_format": "text",
        "success": None,
    }
    return adaptor, endpoint


def _json_webhook(creds: Mapping[str, str]) -> tuple[dict, dict]:
    endpoint = {
        "category": "custom",
        "method": "POST",
        "content_type": "json",
        "response_format": "json",
        "success": None,
    }
    if creds.get("token"):
        endpoint["auth"] = {"type": "bearer", "token": creds["token"]}
    if creds.get("signing_secret"):
        endpoint["signing_secret"] = creds["signing_secret"]
    return {"mappings": _same_names()}, endpoint


def _form_post(creds: Mapping[str, str]) -> tuple[dict, dict]:
    endpoint = {
        "category": "custom",
        "method": "POST",
        "content_type": "form",
        "response_format": "text",
        "success": None,
    }
    if creds.get("username"):
        endpoint["auth"] = {
            "type": "basic",
            "username": creds["username"],
            "password": creds.get("password", ""),
        }
    return {"mappings": _same_names()}, endpoint


SLACK_TEMPLATE = (
    '{"text": "New lead: {{ fields.first_name }} {{ fields.last_name }}'
    ' | {{ fields.email }} | {{ fields.phone }} | {{ fields.state }}"}'
)


def _slack(creds: Mapping[str, str]) -> tuple[dict, dict]:
    adaptor = {"mappings": _same_names(), "body_template": SLACK_TEMPLATE}
    endpoint = {
        "category": "custom",
        "method": "POST",
        "content_type": "json",
        "response_format": "text",
        "success": {"path": "^ok$", "op": "exists"},  # Slack answers the plain text "ok"
        "reject_reason_path": "^(.+)$",
    }
    return adaptor, endpoint


def _get_query(creds: Mapping[str, str]) -> tuple[dict, dict]:
    endpoint = {
        "category": "custom",
        "method": "GET",
        "content_type": "query",
        "auth": {"type": "query", "params": creds["params"]},
        "response_format": "text",
        "success": None,
    }
    return {"mappings": _same_names()}, endpoint


PRESETS: tuple[Preset, ...] = (
    Preset(
        key="hubspot_contacts",
        name="HubSpot contacts (CRM v3)",
        description="Creates a HubSpot contact with a private-app token; stores the contact id "
        "on the lead as hubspot_contact_id.",
        category="crm",
        method="POST",
        content_type="json",
        default_url="https://api.hubapi.com/crm/v3/objects/contacts",
        credentials=(
            Credential(
                "token",
                "Private app access token",
                help="HubSpot → Settings → Integrations → Private apps (crm.objects.contacts.write).",
            ),
        ),
        build=_hubspot,
    ),
    Preset(
        key="salesforce_web_to_lead",
        name="Salesforce Web-to-Lead",
        description="Posts the lead as a form to Salesforce Web-to-Lead with your org id.",
        category="crm",
        method="POST",
        content_type="form",
        default_url="https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8",
        credentials=(
            Credential(
                "oid",
                "Organization id (oid)",
                secret=False,
                help="Setup → Company Information → Salesforce.com Organization ID.",
            ),
            Credential("lead_source", "Lead source", required=False, secret=False),
        ),
        build=_salesforce,
    ),
    Preset(
        key="json_webhook",
        name="Generic JSON webhook",
        description="POSTs the standard lead fields as JSON, optionally with a bearer token and "
        "Standard Webhooks signatures.",
        category="custom",
        method="POST",
        content_type="json",
        default_url="",
        url_help="The webhook URL.",
        credentials=(
            Credential("token", "Bearer token", required=False),
            Credential(
                "signing_secret",
                "Signing secret (whsec_…)",
                required=False,
                help="Requests are signed with Standard Webhooks headers.",
            ),
        ),
        build=_json_webhook,
    ),
    Preset(
        key="form_post",
        name="Generic form post",
        description="POSTs the standard lead fields as application/x-www-form-urlencoded, "
        "optionally with HTTP Basic auth.",
        category="custom",
        method="POST",
        content_type="form",
        default_url="",
        url_help="The form's action URL.",
        credentials=(
            Credential("username", "Basic auth user", required=False, secret=False),
            Credential("password", "Basic auth password", required=False),
        ),
        build=_form_post,
    ),
    Preset(
        key="slack_webhook",
        name="Slack notification (incoming webhook)",
        description="Posts a one-line message about each lead to a Slack channel.",
        category="custom",
        method="POST",
        content_type="json",
        default_url="",
        url_help="The incoming webhook URL (https://hooks.slack.com/services/…).",
        credentials=(),
        build=_slack,
    ),
    Preset(
        key="get_query_auth",
        name="Generic GET with query-string credentials",
        description="Sends the standard lead fields in the query string of a GET, with "
        "credentials such as api_key=…&credential=… appended.",
        category="custom",
        method="GET",
        content_type="query",
        default_url="",
        url_help="The URL to call.",
        credentials=(
            Credential(
                "params", "Credential parameters", help="For example api_key=KEY&credential=SECRET"
            ),
        ),
        build=_get_query,
    ),
)
BY_KEY = {preset.key: preset for preset in PRESETS}


def describe(preset: Preset) -> dict:
    return {
        "key": preset.key,
        "name": preset.name,
        "description": preset.description,
        "category": preset.category,
        "method": preset.method,
        "content_type": preset.content_type,
        "default_url": preset.default_url,
        "url_help": preset.url_help,
        "credentials": [
            {
                "name": c.name,
                "label": c.label,
                "required": c.required,
                "secret": c.secret,
                "help": c.help,
            }
            for c in preset.credentials
        ],
    }


def build(key: str, credentials: Mapping[str, str], url: str = "") -> tuple[dict, dict]:
    """(adaptor fields, endpoint payload with url) for preset ``key``; raises PresetError."""
    preset = BY_KEY.get(key)
    if preset is None:
        raise PresetError({"preset": [f"Unknown preset {key!r}."]})
    known = {c.name for c in preset.credentials}
    problems: dict[str, list[str]] = {}
    for name in sorted(set(credentials) - known):
        problems[name] = ["Not a credential of this preset."]
    creds = {k: str(v).strip() for k, v in credentials.items() if k in known}
    for cred in preset.credentials:
        if cred.required and not creds.get(cred.name):
            problems[cred.name] = ["This credential is required."]
    errors: dict = {"credentials": problems} if problems else {}
    target = (url or preset.default_url).strip()
    if not target:
        errors["url"] = [preset.url_help or "This preset needs a URL."]
    if errors:
        raise PresetError(errors)
    adaptor, endpoint = preset.build(creds)
    return adaptor, {**endpoint, "url": target}
