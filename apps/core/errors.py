"""The error pages a member of staff sees: 403, 404, 500 and a refused form (CSRF), in
Japanese, in the site's layout, saying what to do next and never how the site is built.

Django's own pages are English; with DEBUG on its 404 lists every URL pattern and its 500 the
code and settings. These views render the real templates always; ``ErrorPagesMiddleware``
puts them in place of Django's debug pages too, so development shows what production shows
(the traceback still goes to the console log). API responses (JSON) are left as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader

logger = logging.getLogger(__name__)

_FALLBACK_500 = (
    '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>エラー</title></head>'
    "<body><h1>システムでエラーが発生しました</h1><p>操作は完了していない可能性があります。"
    "少し待ってから、もう一度お試しください。続くときはシステム管理者に連絡してください。</p>"
    "</body></html>"
)


def _page(request: HttpRequest, template: str, status: int, **context: Any) -> HttpResponse:
    response = HttpResponse(
        loader.render_to_string(template, context, request=request), status=status
    )
    response.madoguchi_error_page = True  # type: ignore[attr-defined]
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "errors/403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "errors/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return _page(request, "errors/500.html", 500)
    except Exception:  # the layout itself may be what failed (the database, a template)
        logger.exception("the 500 page could not be rendered")
        response = HttpResponse(_FALLBACK_500, status=500)
        response.madoguchi_error_page = True  # type: ignore[attr-defined]
        return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a page that is too old (or from elsewhere): say how to go on."""
    return _page(request, "errors/csrf.html", 403)


_HANDLERS: dict[int, Callable[[HttpRequest], HttpResponse]] = {
    404: page_not_found,
    500: server_error,
}


class ErrorPagesMiddleware:
    """With DEBUG on, Django answers a 404 or a crash with its technical page (URL patterns,
    settings, code). Pages for people get the real error page instead; JSON is untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        handler = _HANDLERS.get(response.status_code)
        if (
            handler is None
            or not settings.DEBUG
            or getattr(response, "madoguchi_error_page", False)
            or not response.get("Content-Type", "").startswith("text/html")
            or request.path.startswith("/api/")
        ):
            return response
        return handler(request)
