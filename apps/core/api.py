"""What every API view of the project shares."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView


def api_validation_error(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as DRF's 400, with the same Japanese messages: on their
    fields when the service named them, else under ``non_field_errors``."""
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class ServiceErrorsMixin(APIView):
    """An API view that calls services: a service's ``ValidationError`` answers 400 with its
    messages, as the screens show them. (DRF already answers 403 for ``PermissionDenied``
    and 404 for ``Http404``.) Views call services without a try block of their own."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError):
            exc = api_validation_error(exc)
        return super().handle_exception(exc)


__all__ = ["ServiceErrorsMixin", "api_validation_error"]
