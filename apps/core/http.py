"""Small helpers for views of every app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the access log records for a request (REMOTE_ADDR, as the server saw it)."""
    return request.META.get("REMOTE_ADDR")


def apply_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has that field,
    else at the top of the form, so the clerk sees every message next to what to fix."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)
