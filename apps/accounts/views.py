"""The idle timeout's two endpoints (each role's home is apps.home)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.middleware import LAST_SEEN_AT


@require_POST
@login_required
def keepalive(request: HttpRequest) -> JsonResponse:
    """The idle warning's "continue" button: renews the session (apps.accounts.middleware)."""
    request.session[LAST_SEEN_AT] = time.time()
    return JsonResponse({"idle_timeout": settings.SESSION_IDLE_TIMEOUT})


@require_GET
@login_required
def status(request: HttpRequest) -> JsonResponse:
    """Seconds left before the idle timeout; passive (asking does not renew the session)."""
    last_seen = float(request.session.get(LAST_SEEN_AT, time.time()))
    remaining = settings.SESSION_IDLE_TIMEOUT - (time.time() - last_seen)
    return JsonResponse({"remaining": max(0, int(remaining))})
