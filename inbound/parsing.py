"""Turning an inbound request body into data: content-type checks, JSON/form/XML parsing, paths.

Every failure raises ``BodyError`` with a short message fit for a 400; nothing here touches the
database. Parsing is defensive because the input is anyone's: JSON nesting deeper than
``MAX_DEPTH``, numbers that are not finite or too long, invalid UTF-8, XML with a DTD or
entities all become a ``BodyError``, never an exception that would surface as a 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from email.message import Message
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

from django.core.exceptions import SuspiciousOperation
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from lxml import etree

from tenants.xmlsafe import hardened_parser

from .models import BodyType

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100
MAX_FIELDS = 1000

ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    BodyType.JSON: ("application/json",),
    BodyType.FORM: ("application/x-www-form-urlencoded", "multipart/form-data"),
    BodyType.XML: ("application/xml", "text/xml"),
}
_SUFFIX = {BodyType.JSON: "+json", BodyType.XML: "+xml"}


class BodyError(ValueError):
    """The body cannot be read as the handler's body type; the message names the problem."""


@lru_cache(maxsize=256)
def split_content_type(header: str) -> tuple[str, Mapping[str, str]]:
    """``("type/subtype", {param: value})`` of a Content-Type header; tolerant of junk.

    Cached, the parameters read-only: senders repeat a few headers, and the email package's
    header parser took about 2% of a call's CPU.
    """
    message = Message()
    message["content-type"] = header.replace("\r", " ").replace("\n", " ")
    mime = message.get_content_type().lower()
    params = {str(k).lower(): str(v) for k, v in message.get_params(failobj=[])[1:]}
    return mime, MappingProxyType(params)


def check_content_type(body_type: str, header: str) -> tuple[str, Mapping[str, str]]:
    """The parsed content type when it suits ``body_type``; BodyError naming what is expected."""
    mime, params = split_content_type(header or "")
    accepted = ACCEPTED_TYPES[body_type]
    suffix = _SUFFIX.get(body_type)
    if not header or not (mime in accepted or (suffix and mime.endswith(suffix))):
        got = (header or "none")[:100]
        raise BodyError(f"Content-Type must be {' or '.join(accepted)} (got {got}).")
    return mime, params


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8")
    except LookupError as exc:
        raise BodyError(f"Unknown charset {charset[:40]!r}.") from exc
    except UnicodeDecodeError as exc:
        raise BodyError(f"The body is not valid {charset or 'utf-8'} text.") from exc


def _parse_float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_NUMBER_CHARS or not math.isfinite(value):
        raise BodyError(f"Number {text[:20]}… is too large.")
    return value


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BodyError(f"Number {text[:20]}… is too large.")
    return int(text)


def _reject_constant(name: str):
    raise BodyError(f"{name} is not a valid JSON number.")


def parse_json(body: bytes, charset: str | None = None) -> object:
    """The JSON document in ``body``; BodyError when malformed, too deep or with huge numbers."""
    text = _decode(body, charset)
    try:
        data = json.loads(
            text,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except RecursionError as exc:
        raise BodyError(f"JSON is nested deeper than {MAX_DEPTH} levels.") from exc
    except json.JSONDecodeError as exc:
        raise BodyError(
            f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from exc
    check_depth(data)
    return data


def check_depth(data: object, limit: int = MAX_DEPTH) -> None:
    """BodyError when containers nest deeper than ``limit`` (iterative: no recursion limit)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            raise BodyError(f"The body is nested deeper than {limit} levels.")
        stack.extend((child, depth + 1) for child in children)


def parse_form(body: bytes, mime: str, params: Mapping[str, str], meta: Mapping) -> dict:
    """Form fields as ``{name: value}`` (a list when a name repeats); uploaded files are ignored."""
    charset = params.get("charset") or "utf-8"
    if mime == "multipart/form-data":
        return _parse_multipart(body, meta, charset)
    text = _decode(body, charset)
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS
        )
    except ValueError as exc:
        raise BodyError(f"The form has more than {MAX_FIELDS} fields.") from exc
    return _collect(pairs)


def _parse_multipart(body: bytes, meta: Mapping, charset: str) -> dict:
    from io import BytesIO

    from django.core.files.uploadhandler import MemoryFileUploadHandler

    environ = {
        "CONTENT_TYPE": meta.get("CONTENT_TYPE", ""),
        "CONTENT_LENGTH": str(len(body)),
    }
    try:
        fields, _files = MultiPartParser(
            environ, BytesIO(body), [MemoryFileUploadHandler()], charset
        ).parse()
    except (MultiPartParserError, SuspiciousOperation, ValueError) as exc:
        # ValueError: a bad charset inside the parser; SuspiciousOperation: too many fields.
        raise BodyError(f"Malformed multipart form: {str(exc)[:120]}") from exc
    return _collect((key, value) for key, values in fields.lists() for value in values)


def _collect(pairs) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            existing = data[key]
            data[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[key] = value
    return data


def parse_xml(body: bytes) -> dict:
    """The XML document as nested dicts below its root element; DTDs and entities refused.

    A child element becomes a key (repeated children a list), an element with only text its
    text, attributes become keys unless a child has the same name.
    """
    try:
        root = etree.fromstring(body, parser=hardened_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise BodyError(f"Malformed XML: {str(exc)[:160]}") from exc
    if root is None:
        raise BodyError("The XML document is empty.")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BodyError("XML with a DOCTYPE is not accepted.")
    value = _element_value(root, 1)
    return value if isinstance(value, dict) else {root.tag: value}


def _element_value(element, depth: int):
    if depth > MAX_DEPTH:
        raise BodyError(f"The XML is nested deeper than {MAX_DEPTH} levels.")
    children = [child for child in element if isinstance(child.tag, str)]
    if not children and not element.attrib:
        return (element.text or "").strip()
    data: dict = {_local(k): v for k, v in element.attrib.items()}
    collected: dict = {}
    for child in children:
        name = _local(child.tag)
        value = _element_value(child, depth + 1)
        if name in collected:
            existing = collected[name]
            collected[name] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            collected[name] = value
    data.update(collected)
    text = (element.text or "").strip()
    if text and not children:
        data["text"] = text
    return data


def _local(tag: str) -> str:
    """An element or attribute name without its namespace URI."""
    return tag.rsplit("}", 1)[-1]


def parse_body(body_type: str, body: bytes, content_type: str, meta: Mapping) -> object:
    """Check the content type and parse ``body`` for a handler of ``body_type``."""
    mime, params = check_content_type(body_type, content_type)
    if not body.strip():
        raise BodyError("The body is empty.")
    if body_type == BodyType.JSON:
        data = parse_json(body, params.get("charset"))
        if not isinstance(data, dict):
            raise BodyError("The JSON body must be an object.")
        return data
    if body_type == BodyType.XML:
        return parse_xml(body)
    return parse_form(body, mime, params, meta)


def parse_query(query: str) -> dict:
    """Query-string parameters like a form body; BodyError for invalid percent-encoded UTF-8."""
    try:
        pairs = parse_qsl(
            query,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise BodyError("The query string is not valid UTF-8.") from exc
    except ValueError as exc:
        raise BodyError(f"The query string has more than {MAX_FIELDS} fields.") from exc
    return _collect(pairs)


_MISSING = object()


def resolve(data: object, path: str, default=None):
    """The value at a dotted ``path`` (``contact.email``, ``items.0.sku``) in ``data``.

    A literal key equal to the whole path wins (form fields named ``contact.email``).
    """
    if isinstance(data, Mapping) and path in data:
        return data[path]
    value = data
    for segment in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(segment, _MISSING)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return default
        if value is _MISSING:
            return default
    return value


def leaves(data: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """``(path, value)`` of every leaf; a list of scalars counts as one leaf.

    Lists of objects descend with the index as a segment (``items.0.sku``).
    """
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        for index, value in enumerate(data):
            yield from leaves(value, f"{prefix}.{index}" if prefix else str(index))
    elif prefix:
        yield prefix, data
