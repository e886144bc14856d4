"""403, 404, 500 and a refused form (CSRF) are Japanese pages in the site's layout that never
list the URL patterns, the settings or the code: also with DEBUG on, in development."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from apps.accounts.models import User
from tests.auth import mfa_login

TECHNICAL = ("URLconf", "Using the URLconf", "Traceback", "Django tried these URL patterns")


def _layout_and_japanese(body: str, heading: str) -> None:
    assert 'class="topbar"' in body  # the site's layout
    assert heading in body
    for leak in TECHNICAL:
        assert leak not in body
    assert "Forbidden" not in body
    assert "Not Found" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_not_found_is_japanese_and_lists_no_url_pattern(
    debug: bool, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    with override_settings(DEBUG=debug):
        response = client_for(clerk_a).get("/no-such-page/")
        assert response.status_code == 404
        _layout_and_japanese(response.content.decode(), "ページが見つかりません")
        # A row of another office, not found by the selectors, answers the same page.
        missing = client_for(clerk_a).get(
            reverse("residents:detail", args=["00000000-0000-0000-0000-000000000000"])
        )
        assert missing.status_code == 404
        _layout_and_japanese(missing.content.decode(), "ページが見つかりません")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_forbidden_is_japanese(
    debug: bool, auditor: User, client_for: Callable[[User | None], Client]
) -> None:
    with override_settings(DEBUG=debug):
        response = client_for(auditor).get(reverse("fees:payments"))
        assert response.status_code == 403
        _layout_and_japanese(response.content.decode(), "この画面は表示できません")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_is_a_japanese_page(
    debug: bool, clerk_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    import apps.residents.views as views

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(views, "render", boom)
    client = mfa_login(Client(raise_request_exception=False), clerk_a)
    with override_settings(DEBUG=debug):
        response = client.get(reverse("residents:search"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "システムでエラーが発生しました" in body
    assert "the database went away" not in body
    assert "Traceback" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_refused_form_says_what_to_do(debug: bool, clerk_a: User) -> None:
    client = mfa_login(Client(enforce_csrf_checks=True), clerk_a)
    with override_settings(DEBUG=debug):
        response = client.post(reverse("applications:arrivals"), {})
    assert response.status_code == 403
    body = response.content.decode()
    _layout_and_japanese(body, "送信できませんでした")
    assert "再読み込み" in body
    assert "CSRF verification failed" not in body


@pytest.mark.django_db
def test_the_api_keeps_its_json_errors(
    clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    with override_settings(DEBUG=True):
        response = client_for(clerk_a).get(
            reverse("applications-api:detail", args=["00000000-0000-0000-0000-000000000000"])
        )
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["residents:search", "api"])
def test_the_database_lost_in_a_middleware_is_the_503_page_not_a_crash(
    debug: bool, path: str, clerk_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database can go away before any view runs: loading the session's user, in the
    session policy. That answers what a view that lost it answers (apps.core.errors)."""
    from django.db import OperationalError

    from apps.accounts.middleware import SessionPolicyMiddleware
    from apps.core.errors import DATABASE_UNAVAILABLE

    client = mfa_login(Client(raise_request_exception=False), clerk_a)

    def lost(self: Any, request: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionPolicyMiddleware, "__call__", lost)
    url = reverse("residents:search") if path != "api" else "/api/v1/reads"
    with override_settings(DEBUG=debug):
        response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    if path == "api":
        assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    else:
        assert "データベースに接続できません" in body
    assert "server closed" not in body
    assert "Traceback" not in body
