"""A security key (WebAuthn) as a clerk's second factor, in a real browser: Chromium's virtual
authenticator (DevTools protocol) stands in for the key. The clerk adds it from their factors
page, signs out, and signs in again with the key instead of a code. The page fixture fails the
test on any Content Security Policy refusal, so allauth's WebAuthn scripts must run under it."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator

from apps.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "test-pass-123456"


def _virtual_key(page: Any) -> Any:
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return session


def test_a_clerk_adds_a_security_key_and_signs_in_with_it(
    page: Any, live_server: Any, login: Any, clerk_a: User
) -> None:
    _virtual_key(page)
    login(page, "clerk_a")  # with TOTP, the factor every account starts with

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    if "/reauthenticate/" in page.url:  # adding a factor asks for the password again
        page.fill("#id_password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/webauthn/add/" in url)
    page.fill("#id_name", "窓口1のセキュリティキー")
    page.click("#mfa_webauthn_add")
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    keys = Authenticator.objects.filter(user=clerk_a, type=Authenticator.Type.WEBAUTHN)
    assert keys.count() == 1

    # Sign out, and in again: the password, then the key instead of the 6-digit code.
    page.goto(f"{live_server.url}/accounts/logout/")
    page.get_by_role("button", name="ログアウト").last.click()
    page.wait_for_url(lambda url: "/accounts/logout/" not in url)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "clerk_a")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/2fa/authenticate/" in url)
    page.get_by_role("button", name="セキュリティキーを使用する").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
    page.goto(f"{live_server.url}/residents/")
    assert "/residents/" in page.url
    assert page.locator("h1").first.inner_text() != ""
