"""Route every stored lead inside the storing transaction."""

from django.dispatch import receiver

from leads.signals import lead_stored


@receiver(lead_stored)
def route_stored_lead(sender, lead, distribute=True, only_endpoints=None, **kwargs):
    from .routing import route_lead

    route_lead(lead, distribute=distribute, only_endpoints=only_endpoints)
