"""Secrets at rest: Fernet-encrypted text, keys from settings (or derived from SECRET_KEY)."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = list(settings.HUB_FIELD_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(("leadhub-fields:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Plain text of ``token``; an undecryptable value (rotated key) reads as empty."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""


class EncryptedJSONField(models.TextField):
    """A dict of secrets stored encrypted; reads back as a dict (empty when unset)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return {}
        plain = decrypt(value)
        try:
            return json.loads(plain) if plain else {}
        except ValueError:
            return {}

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return self.from_db_value(value, None, None)

    def get_prep_value(self, value):
        if not value:
            return ""
        return encrypt(json.dumps(value, sort_keys=True))


class EncryptedTextField(models.TextField):
    """A single secret string stored encrypted; reads back as plain text ('' when unset)."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""

    def to_python(self, value):
        return value or ""

    def get_prep_value(self, value):
        return encrypt(value) if value else ""
