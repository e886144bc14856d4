from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def test_login_page_is_japanese_and_has_no_sign_up(client: Client) -> None:
    body = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "ログイン" in body
    assert "ユーザー名" in body
    assert "signup" not in body


def test_sign_up_is_closed(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "username": "intruder",
            "password1": "x-very-long-pass-1",
            "password2": "x-very-long-pass-1",
        },
    )
    from apps.accounts.models import User

    assert not User.objects.filter(username="intruder").exists()
    assert response.status_code == 200


def test_login_with_a_password_works(client: Client, clerk_a: User) -> None:
    response = client.post(
        reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"}
    )
    assert response.status_code == 302
    # Each role's home decides where it lands (a clerk: the search; tests/home).
    assert response["Location"] == reverse("home")
    assert client.get(response["Location"])["Location"] == reverse("residents:search")


def test_admin_access(
    client_for: Callable[[User | None], Client], clerk_a: User, admin_user: User
) -> None:
    url = reverse("admin:accounts_user_changelist")
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url).status_code == 302  # not staff: to the admin login
    assert client_for(admin_user).get(url).status_code == 200


def test_healthz(client: Client) -> None:
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_api_schema_needs_login(client_for: Callable[[User | None], Client], clerk_a: User) -> None:
    assert client_for(None).get(reverse("api-schema")).status_code in {401, 403}
    assert client_for(clerk_a).get(reverse("api-schema")).status_code == 200
