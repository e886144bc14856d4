"""Browser fixtures: Playwright driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.mfa import totp_code
from apps.accounts.models import User
from tests.auth import enrol_totp
from tests.services import chromium_path

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The Content Security Policy must not block anything the pages need: a refused script,
    # style or handler shows up as a console error, and fails the test that met it.
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert violations == [], violations


@pytest.fixture
def login(live_server: Any) -> Callable[[Any, str, str], None]:
    """Sign in through the real login form and the real second-factor step, as a clerk would:
    the user gets a TOTP authenticator with a known secret, and the code is typed in."""

    def sign_in(page: Any, username: str, password: str = "test-pass-123456") -> None:
        secret = enrol_totp(User.objects.get(username=username))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_login", username)
        page.fill("#id_password", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/2fa/authenticate/" in url)
        page.fill("#id_code", totp_code(secret))
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/accounts/" not in url)

    return sign_in


# A counter PC's screen.
COUNTER_SCREEN = {"width": 1366, "height": 768}


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Save a full-page PNG named ``name`` (into MG_SCREENSHOTS when set, to look at)."""

    def take(page: Any, name: str) -> Path:
        target = Path(os.environ.get("MG_SCREENSHOTS") or tmp_path) / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
        return target

    return take


def open_menu_entry(page: Any, group: str, entry: str) -> None:
    """Choose ``entry`` from the menu group ``group`` (the menu groups its entries)."""
    page.locator("nav.mainmenu summary", has_text=group).click()
    with page.expect_navigation():
        page.locator("nav.mainmenu").get_by_role("link", name=entry, exact=True).click()
