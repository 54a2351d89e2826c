"""What an adaptor would send for a lead, without an endpoint: the console's live preview."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .render import render_mapped, render_request

PREVIEW_URL = "https://example.invalid/"

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class PreviewEndpoint:
    """Stands in for an endpoint: the renderer reads only these attributes."""

    method: str = "POST"
    content_type: str = "json"
    url: str = PREVIEW_URL
    sandbox_url: str = ""
    use_sandbox: bool = False
    headers: tuple = ()


def body_warnings(body: str, content_type: str) -> list[str]:
    """Why a rendered body is not a well-formed document of its type (empty when it is)."""
    if not body:
        return []
    if content_type == "json":
        try:
            json.loads(body)
        except ValueError as exc:
            return [f"The body is not valid JSON: {exc}."]
    if content_type == "xml":
        try:
            etree.fromstring(body.encode("utf-8"), _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            return [f"The body is not well-formed XML: {exc}."]
    return []


def preview(
    adaptor,
    fields: Mapping[str, Any],
    *,
    content_type: str = "json",
    method: str = "POST",
    lead_id: int | None = None,
) -> dict[str, Any]:
    """The request ``adaptor`` builds for ``fields``; raises RenderError like render_request."""
    request = render_request(
        PreviewEndpoint(method=method, content_type=content_type), adaptor, fields, lead_id=lead_id
    )
    body = request.body.decode("utf-8")
    return {
        "method": request.method,
        "url": request.url,
        "headers": request.headers,
        "body": body,
        "content_type": content_type,
        "mapped": render_mapped(adaptor, fields),
        "warnings": body_warnings(body, content_type),
    }
