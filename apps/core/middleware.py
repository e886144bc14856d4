"""Response headers every page and API answer gets."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and private, max-age=0) on every response the application
    renders: pages and API answers carry personal data, and a shared counter PC's browser cache
    or back button must not keep them (R-MYN-2). Static files are served before this by
    WhiteNoise with their own long cache headers, and carry nothing personal.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        response.headers.setdefault("Pragma", "no-cache")  # HTTP/1.0 proxies
        return response
