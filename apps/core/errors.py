"""The error pages a member of staff sees: 403, 404, 500 and a refused form (CSRF), in
Japanese, in the site's layout, saying what to do next and never how the site is built.

Django's own pages are English; with DEBUG on its 404 lists every URL pattern and its 500 the
code and settings. These views render the real templates always; ``ErrorPagesMiddleware``
puts them in place of Django's debug pages too, so development shows what production shows
(the traceback still goes to the console log). API responses (JSON) are left as they are.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
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
    if _lost_the_database(request):
        # Lost in a middleware (the session, the signed-in user), where no view's
        # process_exception sees it: the same 503 as a view that lost the database.
        return database_unavailable(request, getattr(request, _UNCAUGHT))
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
        if response.status_code == 500 and _lost_the_database(request):
            # With DEBUG, the API's technical page too.
            return database_unavailable(request, getattr(request, _UNCAUGHT))
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


# The database went away under a request (restarted, failed over, the network): said plainly,
# in a page that needs nothing from the database (the layout reads the signed-in user).
DATABASE_UNAVAILABLE = (
    "データベースに一時的に接続できなかったため、この操作は保存されていません"
    "（途中まで記録されることもありません）。少し待ってから、もう一度送信してください。"
)
_DATABASE_UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
    "<title>データベースに接続できません</title></head><body>"
    '<section class="panel error-page" data-error="503"><h1>データベースに接続できません</h1>'
    f"<p>{DATABASE_UNAVAILABLE}</p>"
    "<p>ブラウザの「戻る」で入力画面に戻ると、入力した内容から送信し直せます。"
    "続くときはシステム管理者に連絡してください。</p></section></body></html>"
)
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    """A view that lost its database connection answers 503 with what happened and what to
    do, not a 500 "something went wrong": the clerk must know that nothing was saved and that
    sending again is safe. The transaction died with the connection (PostgreSQL rolls it
    back), so nothing of it was written; the broken connection is closed here, so this
    thread's next request connects afresh (with a pool: the pool checks it before reuse)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """503 with what happened and what to do (DatabaseUnavailableMiddleware)."""
    logger.warning("database unavailable during %s: %s", request.path, type(exception).__name__)
    connection.close_if_unusable_or_obsolete()
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(_DATABASE_UNAVAILABLE_PAGE, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.madoguchi_error_page = True  # type: ignore[attr-defined]
    return response


# Django answers an exception raised outside a view (in a middleware) by itself: the 500
# handler, or with DEBUG its technical page, which ErrorPagesMiddleware then replaces by
# `server_error`. Neither is told what was raised; this receiver of `got_request_exception`
# (sent inside the except block) keeps it on the request for `server_error` to look at.
_UNCAUGHT = "_madoguchi_uncaught_exception"


def _lost_the_database(request: HttpRequest) -> bool:
    return isinstance(getattr(request, _UNCAUGHT, None), OperationalError | InterfaceError)


def remember_uncaught_exception(sender: Any, request: HttpRequest | None = None, **_: Any) -> None:
    if request is not None:
        setattr(request, _UNCAUGHT, sys.exc_info()[1])
