from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from tests.auth import enrol_totp

pytestmark = pytest.mark.django_db


def test_login_page_is_japanese_and_has_no_sign_up(client: Client) -> None:
    body = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "ログイン" in body
    assert "ユーザー名" in body
    assert "signup" not in body


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/1-set-password/",
        "/accounts/email/",
        "/accounts/confirm-email/",
        "/accounts/login/code/",
    ],
)
def test_no_self_service_sign_up_email_or_password_reset_pages(
    client: Client, clerk_a: User, path: str
) -> None:
    """Staff only: an administrator creates accounts and resets passwords."""
    assert client.get(path).status_code == 404
    assert client.post(path, {"username": "intruder", "email": "x@example.jp"}).status_code == 404
    from apps.accounts.models import User

    assert not User.objects.filter(username="intruder").exists()


def test_login_with_a_password_leads_to_the_second_factor(client: Client, clerk_a: User) -> None:
    enrol_totp(clerk_a)
    response = client.post(
        reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")


def test_admin_access(
    client_for: Callable[[User | None], Client], clerk_a: User, admin_user: User
) -> None:
    url = reverse("admin:accounts_user_changelist")
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url, follow=True).status_code == 403  # signed in, not staff
    assert client_for(admin_user).get(url).status_code == 200


def test_admin_login_is_the_staff_sign_in_with_its_limits(client: Client, admin_user: User) -> None:
    """/admin/login/ once took 30 wrong passwords, then the right one: now it is the same
    sign-in as everyone's (limits, second factor)."""
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    for _ in range(6):
        client.post(reverse("account_login"), {"login": "admin", "password": "wrong-password-x"})
    response = client.post(
        reverse("account_login"), {"login": "admin", "password": "test-pass-123456"}
    )
    assert response.status_code == 200  # refused: back-off
    assert "ログインできません" in response.content.decode()


def test_healthz(client: Client) -> None:
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_api_schema_needs_login(client_for: Callable[[User | None], Client], clerk_a: User) -> None:
    assert client_for(None).get(reverse("api-schema")).status_code in {401, 403}
    assert client_for(clerk_a).get(reverse("api-schema")).status_code == 200
