"""The audit trail of configuration changes, written from the API and console bases."""

from __future__ import annotations

from django.db import models
from django.forms.models import model_to_dict

from .models import AuditEvent
from .redaction import MASK, redact_mapping

# Field names whose values are never shown, even masked-by-name fails to catch them.
SECRET_FIELDS = frozenset({"secrets", "signing_secret", "secret", "auth_secrets", "hashed"})


def snapshot(obj: models.Model) -> dict:
    """A JSON-safe dict of ``obj``'s fields with secrets masked."""
    data = {}
    for name, value in model_to_dict(obj).items():
        if name in SECRET_FIELDS:
            data[name] = MASK if value else ""
        elif isinstance(value, (list, tuple)):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif isinstance(value, (str, int, float, bool, type(None), dict)):
            data[name] = value
        else:
            data[name] = str(value)
    return redact_mapping(data)


def actor_of(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.get_username()
    auth = getattr(request, "auth", None)
    return f"api-key:{auth.prefix}" if auth is not None and hasattr(auth, "prefix") else "system"


def record(request, action: str, obj: models.Model, before: dict | None = None) -> None:
    AuditEvent.objects.create(
        tenant_id=obj.tenant_id,
        actor=actor_of(request),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=None if action == "delete" else snapshot(obj),
    )
