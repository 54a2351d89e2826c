"""Building the HTTP request that delivers one lead: pure, no I/O, no database queries.

``render_request(endpoint, adaptor, fields)`` → ``RenderedRequest(method, url, headers, body)``
without authentication (the endpoints client adds auth, signatures and the Idempotency-Key).

What is sent
  * With an adaptor: each mapping ``{"source", "target", "default"?, "transform"?}`` reads the
    lead field ``source``, applies ``transform`` (see transforms.py) and sends it as ``target``.
    A missing or empty value (None, blank text, empty list) sends ``default`` when the mapping
    has one (``"default": ""`` forces an empty value) and is left out otherwise. Constants
    ``[{"name", "value"}]`` follow the mappings and win over a mapping with the same target.
  * Without an adaptor (None): every lead field under its own name, nothing nested.

How it is encoded (``endpoint.content_type``; GET always uses the query string)
  * json  — UTF-8 JSON object; dotted targets (``properties.firstname``) nest; lists stay lists.
  * xml   — ``<?xml …?><{xml_root}>…`` (root ``lead`` by default); dotted targets nest as child
    elements; a list repeats its element; objects in lead values become child elements (their
    keys made XML-safe). Characters XML 1.0 cannot carry (C0 controls other than tab/CR/LF,
    lone surrogates, U+FFFE/U+FFFF) are removed. A mapping target or constant that is not a
    valid XML name is a RenderError naming it.
  * form  — ``application/x-www-form-urlencoded``; dotted names stay flat (``properties.firstname=…``);
    lists are joined with the adaptor's ``delimiter`` (a blank delimiter repeats the parameter);
    objects are sent as compact JSON text.
  * query — the same pairs appended to the URL's existing query string; no body.
  * A ``body_template`` replaces the generated json/xml/form body (see templating.py for the
    escaping rules); it is not used when there is no body (GET, query).

Headers are ``Content-Type`` (when there is a body) then ``endpoint.headers`` in order; an
endpoint header replaces one of the same name (case-insensitive). Lone surrogates in text become
U+FFFD so every body is valid UTF-8.

The explicit ``sandbox=True`` of a test call requires a sandbox URL (RenderError otherwise, so a
test never reaches production); ``sandbox=None`` follows ``endpoint.use_sandbox`` and, like
``Endpoint.target_url``, falls back to the production URL when no sandbox URL is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

from lxml import etree

from .errors import RenderError, TemplateRejected
from .templating import MAX_OUTPUT_BYTES, render_template, xml_text
from .transforms import TransformError, as_text, parse_transform

__all__ = [
    "RenderError",
    "RenderedRequest",
    "TemplateRejected",
    "render_mapped",
    "render_request",
]

CONTENT_TYPES = ("json", "xml", "form", "query")
BODY_HEADERS = {
    "json": "application/json",
    "xml": "application/xml",
    "form": "application/x-www-form-urlencoded",
}
DEFAULT_XML_ROOT = "lead"
DEFAULT_DELIMITER = ","

_SURROGATES = re.compile("[\ud800-\udfff]")
_NOT_NAME_CHAR = re.compile(r"[^\w.-]")


@dataclass(frozen=True, slots=True)
class RenderedRequest:
    method: str  # endpoint.method
    url: str  # complete URL, query string included for GET / query; no auth params yet
    headers: dict[str, str]  # Content-Type (when a body) + endpoint.headers; no auth yet
    body: bytes  # b"" when no body


# --- values -------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value or value.isspace()
    if isinstance(value, (list, tuple, dict)):
        return not value
    return False


def mapped_values(adaptor, fields: Mapping) -> dict[str, Any]:
    """Flat ``{target: value}``: mappings in order, then constants (see the module docstring)."""
    if adaptor is None:
        return dict(fields)
    values: dict[str, Any] = {}
    read = fields.get
    for index, mapping in enumerate(adaptor.mappings or ()):
        # Rows are validated when saved; anything malformed from before is skipped, not fatal.
        target = mapping.get("target") if isinstance(mapping, dict) else None
        if not target:
            continue
        value = read(mapping.get("source") or "")
        spec = mapping.get("transform")
        if spec and not _is_empty(value):
            try:
                value = parse_transform(spec)(value)
            except TransformError as exc:
                raise RenderError(f"mappings[{index}].transform: {exc}", field="mappings") from exc
        if _is_empty(value):
            value = mapping.get("default")
            if value is None:
                continue
        values[str(target)] = value
    for constant in adaptor.constants or ():
        name = constant.get("name") if isinstance(constant, dict) else None
        if name:
            values[str(name)] = constant.get("value", "")
    return values


@lru_cache(maxsize=4096)
def _path(key: str) -> tuple[str, ...]:
    return tuple(key.split("."))


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "c": 2}`` → ``{"a": {"b": 1}, "c": 2}``; a later key wins a conflict.

    Objects that come from the lead are copied before anything is nested into them, so the
    lead's values are never modified.
    """
    nested: dict[str, Any] = {}
    own: set[int] = set()  # ids of the dicts created here
    for key, value in flat.items():
        if "." not in key:
            nested[key] = value
            continue
        *parents, last = _path(key)
        node = nested
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict) or id(child) not in own:
                child = node[part] = dict(child) if isinstance(child, dict) else {}
                own.add(id(child))
            node = child
        node[last] = value
    return nested


def render_mapped(adaptor, fields: Mapping) -> dict:
    """The mapped values and constants, nested by dotted targets (what a json body sends)."""
    if adaptor is None:
        return dict(fields)
    return nest(mapped_values(adaptor, fields))


def constant_values(adaptor) -> dict[str, Any]:
    """``{name: value}`` of the adaptor's constants, as a body template sees them."""
    if adaptor is None:
        return {}
    return {
        str(c["name"]): c.get("value", "")
        for c in adaptor.constants or ()
        if isinstance(c, dict) and c.get("name")
    }


# --- encodings ----------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot encode) replaced by U+FFFD."""
    return text if text.isascii() else _SURROGATES.sub("\ufffd", text)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return clean_text(text).encode("utf-8")


def form_pairs(flat: Mapping[str, Any], delimiter: str) -> list[tuple[str, str]]:
    """Flat name/value text pairs for form bodies and query strings."""
    pairs: list[tuple[str, str]] = []
    for name, value in flat.items():
        if isinstance(value, (list, tuple)):
            items = [as_text(item) for item in value]
            if delimiter:
                pairs.append((name, delimiter.join(items)))
            else:
                pairs.extend((name, item) for item in items)
        else:
            pairs.append((name, as_text(value)))
    return pairs


def urlencode_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{quote_plus(clean_text(k))}={quote_plus(clean_text(v))}" for k, v in pairs)


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return url
    query = urlencode_pairs(pairs)
    parts = urlsplit(url)
    existing = parts.query.rstrip("&")
    return urlunsplit(parts._replace(query=f"{existing}&{query}" if existing else query))


@lru_cache(maxsize=4096)
def valid_xml_name(name: str) -> bool:
    """Whether ``name`` can be an XML element name (no namespace prefix)."""
    try:
        etree.Element(name)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def _safe_xml_name(name: str) -> str:
    """Lead data keys as element names: invalid characters become ``_``."""
    if valid_xml_name(name):
        return name
    safe = _NOT_NAME_CHAR.sub("_", name)
    if not safe or not (safe[0].isalpha() or safe[0] == "_"):
        safe = "_" + safe
    return safe if valid_xml_name(safe) else "field"


def xml_name_problems(adaptor) -> list[tuple[str, str]]:
    """``(field, message)`` for every adaptor name that cannot be an XML element name."""
    problems: list[tuple[str, str]] = []
    root = adaptor.xml_root or DEFAULT_XML_ROOT
    if not valid_xml_name(root):
        problems.append(("xml_root", f"'{root}' is not a valid XML element name."))
    for field, rows, key in (
        ("mappings", adaptor.mappings, "target"),
        ("constants", adaptor.constants, "name"),
    ):
        for index, row in enumerate(rows or ()):
            name = str(row.get(key) or "") if isinstance(row, dict) else ""
            if name and not all(valid_xml_name(part) for part in name.split(".")):
                problems.append(
                    (field, f"{field}[{index}].{key}: '{name}' is not a valid XML element name.")
                )
    return problems


def _xml_append(parent: etree._Element, name: str, value: Any) -> None:
    if isinstance(value, (list, tuple)):
        for item in value:
            _xml_append(parent, name, item)
        return
    element = etree.SubElement(parent, _safe_xml_name(name))
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_append(element, str(key), child)
    elif value is not None:
        element.text = xml_text(as_text(value))


def _xml_body(adaptor, flat: Mapping[str, Any]) -> bytes:
    if adaptor is None:
        root, values = DEFAULT_XML_ROOT, dict(flat)
    else:
        problems = xml_name_problems(adaptor)
        if problems:
            field, message = problems[0]
            raise RenderError(message, field=field)
        root, values = adaptor.xml_root or DEFAULT_XML_ROOT, nest(flat)
    element = etree.Element(root)
    for name, value in values.items():
        _xml_append(element, name, value)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _json_body(adaptor, flat: Mapping[str, Any]) -> bytes:
    values = flat if adaptor is None else nest(flat)
    return _utf8(json.dumps(values, ensure_ascii=False, default=as_text))


def _form_body(flat: Mapping[str, Any], delimiter: str) -> bytes:
    return urlencode_pairs(form_pairs(flat, delimiter)).encode("ascii")


def _template_body(adaptor, content_type: str, fields: Mapping, flat, lead_id) -> bytes:
    context = {
        "lead": {"id": lead_id, "fields": fields},
        "fields": fields,
        "mapped": nest(flat),
        "constants": constant_values(adaptor),
    }
    body = _utf8(
        render_template(content_type, adaptor.body_template, context, delimiter=_delimiter(adaptor))
    )
    if len(body) > MAX_OUTPUT_BYTES:
        raise TemplateRejected(
            f"body_template output is larger than {MAX_OUTPUT_BYTES:,} bytes.",
            field="body_template",
        )
    return body


# --- the request --------------------------------------------------------------------------


def _delimiter(adaptor) -> str:
    if adaptor is None or adaptor.delimiter is None:
        return DEFAULT_DELIMITER
    return adaptor.delimiter


def _target_url(endpoint, sandbox: bool | None) -> str:
    use_sandbox = endpoint.use_sandbox if sandbox is None else sandbox
    if use_sandbox:
        if endpoint.sandbox_url:
            return endpoint.sandbox_url
        if sandbox:
            raise RenderError("This endpoint has no sandbox URL.", field="sandbox_url")
    return endpoint.url


def _header_pairs(headers: Any) -> Iterable[tuple[str, str]]:
    if isinstance(headers, dict):
        headers = [{"name": k, "value": v} for k, v in headers.items()]
    for row in headers or ():
        name = str(row.get("name") or "").strip() if isinstance(row, dict) else ""
        if name:
            yield name, as_text(row.get("value"))


def _headers(endpoint, content_type_header: str | None) -> dict[str, str]:
    headers = {"Content-Type": content_type_header} if content_type_header else {}
    for name, value in _header_pairs(endpoint.headers):
        lower = name.lower()
        for existing in [key for key in headers if key.lower() == lower]:
            del headers[existing]
        headers[name] = value
    return headers


def render_request(
    endpoint,
    adaptor,
    fields: Mapping,
    *,
    lead_id: int | None = None,
    sandbox: bool | None = None,
) -> RenderedRequest:
    """The request delivering ``fields`` to ``endpoint`` through ``adaptor`` (or None).

    ``endpoint`` is duck-typed: method, url, sandbox_url, use_sandbox, content_type, headers.
    Pure and cheap (cached transforms and templates, no queries). Raises RenderError — with
    ``field`` naming the adaptor or endpoint setting at fault — and nothing else.
    """
    method = str(endpoint.method or "POST").upper()
    content_type = endpoint.content_type or "json"
    if content_type not in CONTENT_TYPES:
        raise RenderError(f"Unknown content type {content_type!r}.", field="content_type")
    url = _target_url(endpoint, sandbox)
    flat = mapped_values(adaptor, fields)
    if method == "GET" or content_type == "query":
        pairs = form_pairs(flat, _delimiter(adaptor))
        return RenderedRequest(method, _with_query(url, pairs), _headers(endpoint, None), b"")
    try:
        if adaptor is not None and adaptor.body_template:
            body = _template_body(adaptor, content_type, fields, flat, lead_id)
        elif content_type == "json":
            body = _json_body(adaptor, flat)
        elif content_type == "xml":
            body = _xml_body(adaptor, flat)
        else:
            body = _form_body(flat, _delimiter(adaptor))
    except RecursionError as exc:
        raise RenderError("The lead's values nest too deeply to encode.") from exc
    return RenderedRequest(method, url, _headers(endpoint, BODY_HEADERS[content_type]), body)
