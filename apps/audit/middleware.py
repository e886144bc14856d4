"""Denied attempts leave a trace too (R-AUD-1).

A member of staff who asks for a page or an API answer and gets 403 (not allowed) or 404 (out
of scope: clerk B asking for office A's resident) gets one access-log row: what was asked for,
the resident if the URL named one, outcome "denied". Anonymous requests are sent to the
sign-in page and are not personal-data access; failed sign-ins have their own rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

DENIED_STATUSES = frozenset({403, 404})


class DeniedAccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in DENIED_STATUSES:
            user = getattr(request, "user", None)
            match = request.resolver_match
            if user is not None and user.is_authenticated and match is not None:
                _record(request, response.status_code)
        return response


def _record(request: HttpRequest, status: int) -> None:
    from apps.audit.models import Action, Outcome
    from apps.audit.services import access_log_record
    from apps.residents.models import Resident

    match = request.resolver_match
    if match is None:
        return
    ids = {k: str(v) for k, v in match.kwargs.items() if isinstance(v, uuid.UUID)}
    resident = None
    if "resident_id" in match.kwargs:
        # The resident whose data was asked for, whichever office they belong to.
        resident = Resident.objects.filter(pk=match.kwargs["resident_id"]).first()
    with transaction.atomic():
        access_log_record(
            actor=request.user,  # type: ignore[arg-type]
            action=Action.DENIED,
            resident=resident,
            outcome=Outcome.DENIED,
            detail={"view": match.view_name, "status": status, "method": request.method, **ids},
            ip_address=request.META.get("REMOTE_ADDR"),
        )
