from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "inbound"

    def ready(self) -> None:
        from . import signals  # noqa: F401
