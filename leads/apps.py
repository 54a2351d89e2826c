from django.apps import AppConfig
from django.db.models.signals import post_save


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from tenants.models import Tenant

        post_save.connect(_give_standard_fields, sender=Tenant, dispatch_uid="standard-fields")


def _give_standard_fields(sender, instance, created, **kwargs):
    if created:
        from .services import ensure_standard_fields

        ensure_standard_fields(instance)
