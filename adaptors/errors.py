"""The errors of request rendering, shared by render.py and templating.py."""

from __future__ import annotations


class RenderError(ValueError):
    """A request that cannot be built from this adaptor and lead; the message is short and human.

    ``field`` names the adaptor setting at fault (``"mappings"``, ``"body_template"``…) when
    one is, so an API can answer a 400 naming it.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class TemplateRejected(RenderError):
    """A body template that is invalid whatever the lead: syntax, sandbox escape, size limits."""
