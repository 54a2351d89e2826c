"""Signals the leads app sends; routing listens without leads importing it."""

from django.dispatch import Signal

# Sent inside the storing transaction: lead=Lead, distribute=bool, only_endpoints=list|None.
lead_stored = Signal()
