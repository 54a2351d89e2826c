"""API error handling: DRF's shapes, 404 for another tenant's object, every failure logged."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("hub.api")


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is not None:
        request = context.get("request")
        logger.info(
            "api %s %s -> %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            response.status_code,
            str(response.data)[:500],
        )
    return response
