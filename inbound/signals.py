"""Drop the receiver's per-process handler cache when a handler or a campaign changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leads.models import Campaign

from .models import InboundHandler
from .queries import forget_handlers


@receiver(post_save, sender=InboundHandler)
@receiver(post_delete, sender=InboundHandler)
@receiver(post_save, sender=Campaign)
@receiver(post_delete, sender=Campaign)
def forget_cached_handlers(sender, **kwargs):
    forget_handlers()
