"""Session rules for staff: a second factor before anything else, idle timeout, absolute cap."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from apps.accounts import mfa

# What a signed-in user may open before the second factor: signing in and out, and enrolling.
MFA_EXEMPT_URL_NAMES = frozenset(
    {
        "account_login",
        "account_logout",
        "account_inactive",
        "account_reauthenticate",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "healthz",
        "readyz",
    }
)

SIGNED_IN_AT = "madoguchi_signed_in_at"
LAST_SEEN_AT = "madoguchi_last_seen_at"
# Requests that keep no human at the keyboard: they must not keep an idle session alive.
PASSIVE_URL_NAMES = frozenset({"counters:live_stream", "notices:batch-progress", "session_status"})
# Writing the session on every request costs a database write; a minute's precision will do.
_TOUCH_EVERY = 60.0


def _url_name(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is None:
        return ""
    return match.view_name


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionPolicyMiddleware:
    """Enforce, in this order: the absolute cap, the idle timeout, the second factor.

    The idle timeout (SESSION_IDLE_TIMEOUT, default 15 minutes) ends a session nobody has
    used; the page warns a minute before (static/js/app.js). The cap (SESSION_ABSOLUTE_TIMEOUT,
    a shift) ends every session, used or not, so a stolen session does not live forever.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        now = time.time()
        session = request.session
        signed_in = session.setdefault(SIGNED_IN_AT, now)
        last_seen = session.get(LAST_SEEN_AT, now)
        if now - float(signed_in) > settings.SESSION_ABSOLUTE_TIMEOUT:
            return self._end(request, "勤務時間の上限に達したため、ログアウトしました。")
        if now - float(last_seen) > settings.SESSION_IDLE_TIMEOUT:
            return self._end(request, "一定時間操作がなかったため、ログアウトしました。")
        name = _url_name(request)
        if name not in PASSIVE_URL_NAMES and (
            LAST_SEEN_AT not in session or now - float(last_seen) >= _TOUCH_EVERY
        ):
            session[LAST_SEEN_AT] = now
        if name in MFA_EXEMPT_URL_NAMES or name.startswith("admin:jsi18n"):
            return None
        if mfa.session_has_mfa(request):
            return None
        if _is_api(request):
            return JsonResponse({"detail": "多要素認証が完了していません。"}, status=403)
        if not mfa.has_authenticator(user):
            messages.info(request, "個人情報を扱うため、認証アプリ(二段階認証)の設定が必要です。")
            return redirect("mfa_activate_totp")
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('mfa_reauthenticate')}?{query}")

    def _end(self, request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        if _is_api(request):
            return JsonResponse({"detail": message}, status=401)
        messages.info(request, message)
        return redirect(settings.LOGIN_URL)
