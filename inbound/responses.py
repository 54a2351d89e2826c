"""What the receiver answers: the handler's response template and the fixed answers.

A handler's ``response`` is ``{"status_code", "content_type", "body"}``; ``body`` is a Jinja2
template that sees ``lead`` (its fields at the top level, plus ``id``, ``campaign``,
``created_at`` and ``fields``) and ``status`` (``accepted`` for a new lead, ``updated`` for an
existing one, ``found`` for a GET lookup).

It renders in the adaptors' sandbox (``adaptors.templating``), the one sandbox for every
template a tenant writes: the same step budget, capped ``range``, filters and refusals, with the
output capped at MAX_BODY_CHARS here. What a value prints as follows that module: missing values
and ``None`` are empty (never an error), booleans ``true``/``false``, lists comma-joined,
objects compact JSON.

Escaping follows the answer's content type. A JSON answer (``application/json``, the default,
or any ``…+json``) escapes every ``{{ value }}`` as the inside of a JSON string, so a lead value
with quotes or newlines cannot break the document: write ``{"email": "{{ lead.email }}"}``;
numbers and booleans also work unquoted (``{"id": {{ lead.id }}}``) and ``tojson`` inserts any
value as JSON as is (``{"hello": {{ lead.first_name|tojson }}}``). Any other content type is
plain text, printed without escaping.

Templates are validated when saved (a sample lead is rendered); one that still fails when
rendered falls back to the default answer and the error is kept on the call's log row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

# A deliberate dependency on the adaptors app: tenant templates run in one hardened sandbox,
# written once (adaptors.templating), rather than in a second, weaker one here.
from adaptors.errors import RenderError, TemplateRejected
from adaptors.templating import TEXT, render_template

MAX_BODY_CHARS = 64 * 1024
MAX_TEMPLATE_CHARS = 20_000
FIELD = "response.body"
JSON = "application/json"
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;[ -~]*)?")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the receiver, as sent and as logged."""

    status_code: int
    body: str
    content_type: str = JSON
    render_error: str = ""
    headers: tuple[tuple[str, str], ...] = ()


class ResponseConfigError(ValueError):
    """A handler response that cannot be saved; the message says what is wrong."""


def lead_context(lead_id: int | None, fields: Mapping, campaign_id=None, created_at=None) -> dict:
    """The ``lead`` a response template sees."""
    return {
        **fields,
        "id": lead_id,
        "campaign": campaign_id,
        "created_at": created_at.isoformat() if created_at is not None else None,
        "fields": dict(fields),
    }


def default_body(status: str, lead_id: int | None) -> str:
    return json.dumps({"status": status, "lead_id": lead_id})


def render(response: Mapping | None, status: str, lead: Mapping, default_code: int) -> Answer:
    """The handler's answer for ``status``; the default JSON answer when no body is set."""
    response = response or {}
    code = int(response.get("status_code") or default_code)
    content_type = response.get("content_type") or JSON
    source = response.get("body") or ""
    if not source:
        return Answer(code, default_body(status, lead.get("id")), JSON)
    try:
        body = _render(source, content_type, {"lead": lead, "status": status})
    except RenderError as exc:  # TemplateRejected is one too
        # A template that passed validation can still fail on real data (a division by a
        # lead's zero): the lead is stored, so answer the default and log the reason.
        reason = f"Response template failed: {str(exc)[:200]}"
        return Answer(code, default_body(status, lead.get("id")), JSON, reason)
    return Answer(code, body, content_type)


def template_format(content_type: str) -> str:
    """The escaping of a ``content_type`` answer: ``json`` or ``xml`` for those media types
    (so a lead value can never break the document), else text."""
    subtype = content_type.split(";", 1)[0].strip().lower().partition("/")[2]
    for fmt in ("json", "xml"):
        if subtype == fmt or subtype.endswith("+" + fmt):
            return fmt
    return TEXT


def _render(source: str, content_type: str, context: dict) -> str:
    """The rendered body; TemplateRejected or RenderError (both name ``response.body``)."""
    return render_template(
        template_format(content_type),
        source,
        context,
        field=FIELD,
        max_output=MAX_BODY_CHARS,
    )


SAMPLE_LEAD = lead_context(
    123,
    {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+14155550100",
        "state": "CA",
        "zip_code": "94105",
    },
    1,
    None,
)


def validate_response(response) -> dict:
    """The cleaned response config; ResponseConfigError naming the problem.

    ``status_code`` must be a 2xx (the receiver answers it only for a stored lead),
    ``content_type`` a media type, ``body`` a template that compiles and renders a sample lead.
    """
    if response in (None, {}):
        return {}
    if not isinstance(response, Mapping):
        raise ResponseConfigError("Must be an object with status_code, content_type and body.")
    unknown = set(response) - {"status_code", "content_type", "body"}
    if unknown:
        raise ResponseConfigError(f"Unknown keys: {', '.join(sorted(map(str, unknown)))}.")
    clean: dict = {}
    code = response.get("status_code")
    if code not in (None, ""):
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 299:
            raise ResponseConfigError("status_code must be an integer from 200 to 299.")
        clean["status_code"] = code
    content_type = response.get("content_type")
    if content_type not in (None, ""):
        if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type.strip()):
            raise ResponseConfigError("content_type must be a media type like application/json.")
        clean["content_type"] = content_type.strip()[:100]
    body = response.get("body")
    if body not in (None, ""):
        if not isinstance(body, str):
            raise ResponseConfigError("body must be a template string.")
        if len(body) > MAX_TEMPLATE_CHARS:
            raise ResponseConfigError(f"{FIELD} is longer than {MAX_TEMPLATE_CHARS:,} characters.")
        context = {"lead": SAMPLE_LEAD, "status": "accepted"}
        try:
            _render(body, clean.get("content_type") or JSON, context)
        except TemplateRejected as exc:
            raise ResponseConfigError(str(exc)) from exc
        except RenderError as exc:
            raise ResponseConfigError(f"{exc} (rendering a sample lead)") from exc
        clean["body"] = body
    return clean
