import logging

from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"

    def ready(self) -> None:
        # httpx logs every request URL at INFO, query-string credentials included; our own
        # call logs are the redacted record, so keep the library quiet unless configured.
        for name in ("httpx", "httpcore"):
            library = logging.getLogger(name)
            if library.level == logging.NOTSET:
                library.setLevel(logging.WARNING)
