"""The idle warning in a real browser: it appears before the timeout, one key continues, and
an unattended screen leaves the personal data for the sign-in page."""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_idle_warning_then_sign_out(
    page: Any, live_server: Any, login: Any, clerk_a: User, settings: Any
) -> None:
    settings.SESSION_IDLE_TIMEOUT = 8
    settings.SESSION_IDLE_WARNING = 5
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/residents/")
    dialog = page.locator("#idle-warning")
    dialog.wait_for(state="visible", timeout=10_000)
    assert "まもなく自動的にログアウトします" in dialog.inner_text()
    page.keyboard.press("Enter")  # 操作を続ける has the focus
    dialog.wait_for(state="hidden", timeout=5_000)
    assert "/residents/" in page.url
    # Nobody touches it again: the page leaves for the sign-in form, with the reason.
    page.wait_for_url(lambda url: "/accounts/login/" in url, timeout=20_000)
    assert "一定時間操作がなかったため" in page.content()
