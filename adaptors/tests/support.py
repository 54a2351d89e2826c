"""Unsaved endpoints and adaptors for the pure rendering tests (no database needed)."""

from __future__ import annotations

from adaptors.models import Adaptor
from endpoints.models import Endpoint


def endpoint(content_type: str = "json", method: str = "POST", **kwargs) -> Endpoint:
    kwargs.setdefault("url", "https://buyer.example/leads")
    kwargs.setdefault("headers", [])
    return Endpoint(content_type=content_type, method=method, **kwargs)


def adaptor(mappings=None, constants=None, **kwargs) -> Adaptor:
    return Adaptor(name="test", mappings=mappings or [], constants=constants or [], **kwargs)
