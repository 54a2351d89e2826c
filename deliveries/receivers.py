"""Signal wiring: route every stored lead inside its storing transaction, and drop the cached
routing config whenever an endpoint, its campaign links or a campaign change."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from endpoints.models import Endpoint
from leads.models import Campaign, Lead
from leads.signals import lead_stored


@receiver(lead_stored, sender=Lead)
def route_stored_lead(sender, lead, distribute=True, only_endpoints=None, **kwargs):
    from .routing import route_lead

    route_lead(lead, distribute=distribute, only_endpoints=only_endpoints)


@receiver(post_save, sender=Endpoint)
@receiver(post_delete, sender=Endpoint)
@receiver(post_save, sender=Campaign)
@receiver(post_delete, sender=Campaign)  # its endpoint links vanish without an m2m signal
def forget_routing_config(sender, instance, **kwargs):
    from .routing import forget_config

    forget_config(instance.tenant_id)


@receiver(m2m_changed, sender=Endpoint.campaigns.through)
def forget_routing_config_on_links(sender, instance, action, **kwargs):
    if action.startswith("post_"):
        from .routing import forget_config

        forget_config(instance.tenant_id)
