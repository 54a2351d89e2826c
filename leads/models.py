"""Lead fields, campaigns and leads."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned, tenant_field


class FieldType(models.TextChoices):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    STATE = "state"
    ZIP = "zip"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


STANDARD_FIELDS: list[tuple[str, str, str]] = [
    ("first_name", "First name", FieldType.TEXT),
    ("last_name", "Last name", FieldType.TEXT),
    ("email", "Email", FieldType.EMAIL),
    ("phone", "Phone", FieldType.PHONE),
    ("address", "Address", FieldType.TEXT),
    ("city", "City", FieldType.TEXT),
    ("state", "State", FieldType.STATE),
    ("zip_code", "ZIP code", FieldType.ZIP),
    ("country", "Country", FieldType.TEXT),
    ("ip_address", "IP address", FieldType.TEXT),
]


class LeadField(TenantOwned):
    name = models.SlugField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(default=False)
    standard = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_lead_field_name")
        ]

    def __str__(self) -> str:
        return self.name


class Distribution(models.TextChoices):
    BROADCAST = "broadcast"
    WATERFALL = "waterfall"


class Campaign(TenantOwned):
    name = models.CharField(max_length=200)
    distribution = models.CharField(
        max_length=10, choices=Distribution.choices, default=Distribution.BROADCAST
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LeadStatus(models.TextChoices):
    NEW = "new"
    ROUTED = "routed"
    SOLD = "sold"
    REJECTED = "rejected"
    UNSOLD = "unsold"


class Lead(TenantOwned):
    """A lead: normalised ``fields`` plus indexed copies of the columns people search by."""

    tenant = tenant_field(db_index=False)  # every index below leads with it
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    fields = models.JSONField(default=dict)
    phone = models.CharField(max_length=32, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    state = models.CharField(max_length=2, blank=True, default="")
    zip_code = models.CharField(max_length=5, blank=True, default="")
    status = models.CharField(max_length=10, choices=LeadStatus.choices, default=LeadStatus.NEW)
    status_reason = models.CharField(max_length=500, blank=True, default="")
    # Routing trace: [{"endpoint", "name", "step", "decision", "reason"}], appended as it runs.
    routing = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="lead_tenant_created"),
            models.Index(fields=["tenant", "phone"], name="lead_tenant_phone"),
            models.Index(fields=["tenant", "email"], name="lead_tenant_email"),
            models.Index(fields=["tenant", "state"], name="lead_tenant_state"),
            models.Index(fields=["tenant", "zip_code"], name="lead_tenant_zip"),
        ]

    def __str__(self) -> str:
        return f"Lead {self.pk}"

    INDEXED = ("phone", "email", "state", "zip_code")

    def sync_indexed(self) -> None:
        """Copy the searchable values from ``fields`` into their indexed columns."""
        for name in self.INDEXED:
            setattr(
                self,
                name,
                str(self.fields.get(name) or "")[: self._meta.get_field(name).max_length],
            )
