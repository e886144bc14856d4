from django.conf import settings
from django.http import HttpRequest


def city(request: HttpRequest) -> dict[str, str]:
    return {"CITY_NAME": settings.CITY_NAME}


def session_timing(request: HttpRequest) -> dict[str, int]:
    """Seconds left before the idle timeout, for the warning on every page (static/js/app.js).

    Read from the session as the middleware keeps it; `apps.core` imports no app, so the key
    is repeated here (apps.accounts.middleware.LAST_SEEN_AT).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    import time

    last_seen = float(request.session.get("madoguchi_last_seen_at", time.time()))
    remaining = settings.SESSION_IDLE_TIMEOUT - (time.time() - last_seen)
    return {
        "IDLE_TIMEOUT": settings.SESSION_IDLE_TIMEOUT,
        "IDLE_REMAINING": max(0, int(remaining)),
        "IDLE_WARNING": settings.SESSION_IDLE_WARNING,
    }
