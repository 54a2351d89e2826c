"""Tenants, their members and API keys, and the one base every tenant-owned model uses."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Tenant(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    log_retention_days = models.PositiveIntegerField(default=90)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(models.Model):
    """A user belongs to exactly one tenant, with a role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ADMIN)

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int | None) -> TenantQuerySet:
        """Rows of one tenant; no tenant means no rows, never every row."""
        if tenant is None:
            return self.none()
        return self.filter(tenant=tenant)


def tenant_field(*, db_index: bool = True) -> models.ForeignKey:
    """The owning tenant. ``db_index=False`` for a model whose composite indexes all start
    with the tenant: a single-column index beside them only costs every insert."""
    return models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=db_index)


class TenantOwned(models.Model):
    """Abstract base: every object belongs to exactly one tenant."""

    tenant = tenant_field()

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


KEY_PREFIX = "lh"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(TenantQuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(TenantOwned):
    """A tenant's API key. Only the SHA-256 of the secret is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed = models.CharField(max_length=64, editable=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, tenant: Tenant, name: str, role: str = Role.ADMIN) -> tuple[ApiKey, str]:
        """Create a key and return it with the raw secret, which is never stored."""
        prefix = secrets.token_hex(4)
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(
            tenant=tenant, name=name, prefix=prefix, hashed=hash_key(raw), role=role
        )
        return key, raw

    @classmethod
    def authenticate(cls, raw: str) -> ApiKey | None:
        """The active key matching ``raw``, compared in constant time; None otherwise."""
        parts = raw.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        key = cls.objects.active().select_related("tenant").filter(prefix=parts[1]).first()
        if key is None or not hmac.compare_digest(key.hashed, hash_key(raw)):
            return None
        return key

    def touch(self) -> None:
        """Record use, at most once a minute so the hot path does not write on every call."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES


class AuditEvent(TenantOwned):
    """Who changed which configuration object, when, before/after with secrets masked."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=20)  # create | update | delete
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]
