"""The signed-in user is loaded with their office: the header shows it without a query."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.mfa import totp_code
from apps.accounts.models import User
from tests.auth import enrol_totp

pytestmark = pytest.mark.django_db


def _page_queries(client: Client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("password_sign_in", [False, True], ids=["session", "login form"])
def test_the_headers_office_costs_no_query(
    client_for: Callable[[User | None], Client], clerk_a: User, password_sign_in: bool
) -> None:
    """Whichever backend signed the user in (the session remembers it)."""
    if password_sign_in:
        # The real sign-in: password, then the TOTP code (tests/auth.py).
        secret = enrol_totp(clerk_a)
        client = client_for(None)
        response = client.post(
            reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"}
        )
        assert response.status_code == 302
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302
    else:
        client = client_for(clerk_a)
    html, queries = _page_queries(client, reverse("residents:search"))
    assert "（窓口職員・本庁）" in html
    user_queries = [sql for sql in queries if 'FROM "accounts_user"' in sql]
    assert len(user_queries) == 1
    assert 'JOIN "accounts_office"' in user_queries[0]
    assert not [sql for sql in queries if re.search(r'FROM "accounts_office"', sql)]


def test_an_inactive_user_is_signed_out(
    client_for: Callable[[User | None], Client], clerk_a: User
) -> None:
    client = client_for(clerk_a)
    User.objects.filter(pk=clerk_a.pk).update(is_active=False)
    response = client.get(reverse("residents:search"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
