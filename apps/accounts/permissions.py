"""View decorators for role checks. Scoping of rows is the selectors' job, not this module's."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from apps.accounts.models import User

View = TypeVar("View", bound=Callable[..., HttpResponse])


class StaffRequest(HttpRequest):
    """A request that passed one of the decorators below: its user is a signed-in User."""

    user: User


def role_required(check: Callable[[Any], bool]) -> Callable[[View], View]:
    """Anonymous users go to the login page; signed-in users without the role get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


resident_staff_required = role_required(lambda user: user.works_with_residents)
audit_staff_required = role_required(lambda user: user.may_read_audit_log)
