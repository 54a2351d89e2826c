"""Reading a buyer's answer: the outcome of a call, its reason, and the values to capture.

The endpoint declares ``response_format`` (json|xml|text); paths are JSONPath (``jsonpath_ng.ext``)
for json, XPath 1.0 for xml and a regular expression (RE2: linear time, tenant-safe) for text,
whose first group (or the whole match) is the value.

Outcome rules (API.md):
- 2xx and the success rule holds (no rule: any 2xx) → ``accepted``.
- 2xx and the rule fails, or 4xx other than 408/429 → ``rejected`` with the buyer's reason
  (``reject_reason_path`` when set and found, else the rule / status and a body excerpt).
- 3xx → ``rejected``: redirects are never followed (they would bypass the destination checks
  and re-send lead data to a URL nobody configured); retrying cannot help, so it is final.
- 5xx, 408, 429 → transient ``error``; Retry-After (seconds or an HTTP date) is read on 429/503.
- A body that must be read (a success rule or captures on a 2xx) and does not parse as the
  declared format → non-transient ``error`` with a clear message. XML is parsed with a
  hardened parser (no entities, no network, no huge trees) and any DTD is refused, so an
  entity-expansion bomb is an error, fast. A body cut at the read limit is not parsed as
  JSON/XML (error); text rules see the part that was read.

Compiled expressions are cached: this runs once per delivery on the hot path.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import re2
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext import parse as jsonpath_parse
from lxml import etree

from tenants.xmlsafe import hardened_parser

OPS = ("eq", "ne", "contains", "regex", "truthy", "exists")
OPS_NEEDING_VALUE = frozenset({"eq", "ne", "contains", "regex"})
TRANSIENT_STATUSES = frozenset({408, 429})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER = 86400.0
MAX_RESULT = 500
MAX_CAPTURED_TEXT = 1000

ACCEPTED, REJECTED, ERROR = "accepted", "rejected", "error"


class PathError(ValueError):
    """A path/expression that does not compile for the declared format."""


class BodyError(ValueError):
    """A response body that does not parse as the declared format."""


@dataclass(frozen=True)
class Verdict:
    outcome: str
    result: str
    captured: dict = field(default_factory=dict)
    transient: bool = False
    retry_after: float | None = None


# ---- expressions ----------------------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=2048)
def compile_regex(pattern: str):
    """An RE2 pattern (linear-time matching, so a tenant's regex cannot stall a worker)."""
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        message = exc.args[0] if exc.args else exc
        if isinstance(message, bytes):
            message = message.decode(errors="replace")
        raise PathError(f"Invalid regular expression: {message}") from exc


@lru_cache(maxsize=2048)
def _compile_jsonpath(path: str):
    try:
        return jsonpath_parse(path)
    except (JSONPathError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise PathError(f"Invalid JSONPath: {exc}") from exc


_local = threading.local()


def _compile_xpath(path: str) -> etree.XPath:
    # lxml XPath objects are not to be shared between threads: one cache per thread.
    cache = getattr(_local, "xpaths", None)
    if cache is None:
        cache = _local.xpaths = {}
    compiled = cache.get(path)
    if compiled is None:
        try:
            compiled = etree.XPath(path)
        except etree.XPathError as exc:
            raise PathError(f"Invalid XPath: {exc}") from exc
        if len(cache) >= 1024:
            cache.clear()
        cache[path] = compiled
    return compiled


def check_path(path: str, response_format: str) -> None:
    """Raise PathError unless ``path`` compiles for ``response_format``."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("A path is required.")
    if response_format == "json":
        _compile_jsonpath(path)
    elif response_format == "xml":
        _compile_xpath(path)
    else:
        compile_regex(path)


# ---- bodies ---------------------------------------------------------------------------------


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def parse_body(body: bytes, response_format: str) -> Any:
    """The document to evaluate paths on: JSON value, XML root element or text."""
    if response_format == "json":
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BodyError(f"response is not valid JSON: {_short(exc)}") from exc
    if response_format == "xml":
        try:
            root = etree.fromstring(body, hardened_parser())
        except (etree.XMLSyntaxError, ValueError) as exc:
            raise BodyError(f"response is not valid XML: {_short(exc)}") from exc
        if root is None:
            raise BodyError("response is not valid XML: empty document")
        if root.getroottree().docinfo.internalDTD is not None:
            raise BodyError("response XML declares a DTD; DTDs and entities are not accepted")
        return root
    return body.decode("utf-8", errors="replace")


def find(path: str, doc: Any, response_format: str) -> tuple[bool, Any]:
    """(found, first value) of ``path`` in a parsed document; never raises on data."""
    if response_format == "json":
        matches = _compile_jsonpath(path).find(doc)
        return (True, matches[0].value) if matches else (False, None)
    if response_format == "xml":
        try:
            value = _compile_xpath(path)(doc)
        except etree.XPathError:
            return False, None
        if isinstance(value, list):
            if not value:
                return False, None
            value = value[0]
        if isinstance(value, etree._Element):
            value = "".join(value.itertext())
        elif isinstance(value, (bytes, str)):
            value = str(value)
        return True, value
    match = compile_regex(path).search(doc)
    if match is None:
        return False, None
    return True, match.group(1) if compile_regex(path).groups else match.group(0)


# ---- values and ops -------------------------------------------------------------------------


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _equal(actual: Any, expected: Any) -> bool:
    if actual == expected and type(actual) is not bool and type(expected) is not bool:
        return True
    return as_text(actual) == as_text(expected)


_FALSY_TEXT = frozenset({"", "0", "false", "no", "off", "null", "none"})


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSY_TEXT
    return bool(value)


def holds(op: str, found: bool, actual: Any, expected: Any) -> bool:
    """Whether the success rule ``op`` holds for a (found, value) pair."""
    if op == "exists":
        return found
    if op == "truthy":
        return found and _truthy(actual)
    if not found:
        return op == "ne"
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "contains":
        if isinstance(actual, list):
            return any(_equal(item, expected) for item in actual)
        return as_text(expected) in as_text(actual)
    if op == "regex":
        return compile_regex(as_text(expected)).search(as_text(actual)) is not None
    return False


def _captured_value(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_CAPTURED_TEXT]
    if isinstance(value, (int, float, bool, dict, list)) or value is None:
        return value
    return as_text(value)[:MAX_CAPTURED_TEXT]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, min(delta, MAX_RETRY_AFTER))


def _excerpt(body: bytes) -> str:
    text = re.sub(r"\s+", " ", body[:400].decode("utf-8", errors="replace")).strip()
    return text[:200]


def _status_text(status: int, body: bytes) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    text = f"HTTP {status} {phrase}".strip()
    excerpt = _excerpt(body)
    return f"{text}: {excerpt}" if excerpt else text


# ---- the verdict ----------------------------------------------------------------------------


def read(
    endpoint,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    complete: bool = True,
    limit: int | None = None,
) -> Verdict:
    """The outcome of one HTTP answer for ``endpoint`` (see the module docstring). Never raises.

    ``complete`` is False when ``body`` was cut at ``limit`` bytes (the rest was not read).
    """
    try:
        return _read(endpoint, status, headers, body, complete=complete, limit=limit)
    except PathError as exc:  # saved config is validated; this guards hand-edited rows
        return Verdict(ERROR, f"endpoint response settings: {exc}"[:MAX_RESULT])


def _read(
    endpoint, status: int, headers: Mapping[str, str], body: bytes, *, complete: bool, limit
) -> Verdict:
    fmt = endpoint.response_format
    rule = endpoint.success or None
    captures = endpoint.capture or []
    reject_path = endpoint.reject_reason_path or ""

    def document() -> Any:
        if not complete and fmt != "text":
            raise BodyError(
                f"response body is larger than {limit} bytes; too large to read as {fmt.upper()}"
            )
        return parse_body(body, fmt)

    if 200 <= status < 300:
        doc = None
        if rule or captures:
            try:
                doc = document()
            except BodyError as exc:
                return Verdict(ERROR, str(exc))
        captured = _capture(captures, doc, fmt) if doc is not None else {}
        if not rule:
            return Verdict(ACCEPTED, f"HTTP {status}", captured)
        found, actual = find(rule["path"], doc, fmt)
        if holds(rule["op"], found, actual, rule.get("value")):
            token = as_text(actual) if found and not isinstance(actual, (dict, list)) else ""
            return Verdict(ACCEPTED, (token or f"HTTP {status}")[:MAX_RESULT], captured)
        reason = _reject_reason(reject_path, doc, fmt) or (
            f"success rule not met: {rule['path']} {rule['op']}"
            + (f" {as_text(rule.get('value'))!r}" if rule["op"] in OPS_NEEDING_VALUE else "")
            + (f" (got {as_text(actual)[:100]!r})" if found else " (not found)")
        )
        return Verdict(REJECTED, reason[:MAX_RESULT], captured)

    if 300 <= status < 400:
        location = _header(headers, "location") or "?"
        return Verdict(
            REJECTED,
            f"HTTP {status} redirect to {location[:200]} not followed; "
            "point the endpoint at the final URL",
        )

    transient = status >= 500 or status in TRANSIENT_STATUSES
    if transient:
        retry_after = (
            parse_retry_after(_header(headers, "retry-after"))
            if status in RETRY_AFTER_STATUSES
            else None
        )
        return Verdict(
            ERROR, _status_text(status, body)[:MAX_RESULT], transient=True, retry_after=retry_after
        )

    if 400 <= status < 500:
        doc, captured = None, {}
        if reject_path or captures:
            try:
                doc = document()
            except BodyError:
                doc = None  # the status alone decides a rejection; the body is only its reason
        if doc is not None:
            captured = _capture(captures, doc, fmt)
        reason = (_reject_reason(reject_path, doc, fmt) if doc is not None else "") or (
            _status_text(status, body)
        )
        return Verdict(REJECTED, reason[:MAX_RESULT], captured)

    return Verdict(ERROR, f"unexpected HTTP status {status}")


def _capture(captures: list[dict], doc: Any, fmt: str) -> dict:
    captured = {}
    for item in captures:
        found, value = find(item["path"], doc, fmt)
        if found:
            captured[item["lead_field"]] = _captured_value(value)
    return captured


def _reject_reason(path: str, doc: Any, fmt: str) -> str:
    if not path or doc is None:
        return ""
    found, value = find(path, doc, fmt)
    return as_text(value).strip() if found else ""
