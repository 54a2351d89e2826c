"""What the receiver answers: the handler's response template and the fixed answers.

A handler's ``response`` is ``{"status_code", "content_type", "body"}``; ``body`` is a Jinja2
template rendered in a sandbox that sees ``lead`` (its fields at the top level, plus ``id``,
``campaign``, ``created_at`` and ``fields``) and ``status`` (``accepted`` for a new lead,
``updated`` for an existing one, ``found`` for a GET lookup). Templates are validated when
saved; one that still fails when rendered falls back to the default answer and the error is
kept on the call's log row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_BODY_CHARS = 64 * 1024
MAX_TEMPLATE_CHARS = 20_000
MAX_REPEAT = 10_000
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


class _Environment(SandboxedEnvironment):
    """The sandbox, plus a bound on ``*`` and ``**`` so a template cannot build huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for count, other in ((left, right), (right, left)):
                if (
                    isinstance(count, int)
                    and isinstance(other, (str, list, tuple))
                    and count * max(len(other), 1) > MAX_REPEAT
                ):
                    raise SecurityError("the result of * would be too large")
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise SecurityError("the exponent of ** is too large")
        return super().call_binop(context, operator, left, right)


_ENV = _Environment(autoescape=False, keep_trailing_newline=True)


class ResponseConfigError(ValueError):
    """A handler response that cannot be saved; the message says what is wrong."""


@lru_cache(maxsize=256)
def _compile(source: str):
    return _ENV.from_string(source)


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
        body = _render_capped(source, {"lead": lead, "status": status})
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        # A template that passed validation can still fail on real data (a missing key, a
        # division by zero): the lead is stored, so answer the default and log the reason.
        reason = f"Response template failed: {str(exc)[:200]}"
        return Answer(code, default_body(status, lead.get("id")), JSON, reason)
    return Answer(code, body, content_type)


def _render_capped(source: str, context: dict) -> str:
    parts: list[str] = []
    size = 0
    for chunk in _compile(source).generate(**context):
        size += len(chunk)
        if size > MAX_BODY_CHARS:
            raise ValueError(f"the rendered body is over {MAX_BODY_CHARS} characters")
        parts.append(chunk)
    return "".join(parts)


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
            raise ResponseConfigError(f"body is longer than {MAX_TEMPLATE_CHARS} characters.")
        try:
            _render_capped(body, {"lead": SAMPLE_LEAD, "status": "accepted"})
        except SecurityError as exc:
            raise ResponseConfigError(f"body is not allowed: {exc}") from exc
        except TemplateError as exc:
            raise ResponseConfigError(f"body is not a valid template: {exc}") from exc
        except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise ResponseConfigError(f"body fails on a sample lead: {exc}") from exc
        clean["body"] = body
    return clean
