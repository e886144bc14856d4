"""Sessions end when idle, after a shift, and at once when the user is deactivated."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from apps.accounts.mfa import totp_code
from apps.accounts.middleware import LAST_SEEN_AT, SIGNED_IN_AT
from apps.accounts.models import User
from tests.auth import enrol_totp

pytestmark = pytest.mark.django_db


def _age(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


def test_an_idle_session_ends(
    client_for: Callable[[User | None], Client], clerk_a: User, settings: Any
) -> None:
    client = client_for(clerk_a)
    url = reverse("residents:search")
    assert client.get(url).status_code == 200
    _age(client, LAST_SEEN_AT, settings.SESSION_IDLE_TIMEOUT - 30)
    assert client.get(url).status_code == 200  # 14.5 minutes: still there, and renewed
    _age(client, LAST_SEEN_AT, settings.SESSION_IDLE_TIMEOUT + 1)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert client.get(url).status_code == 302  # signed out, not just redirected once


def test_watching_the_live_panel_or_the_clock_does_not_keep_a_session_alive(
    client_for: Callable[[User | None], Client], clerk_a: User, settings: Any
) -> None:
    client = client_for(clerk_a)
    client.get(reverse("residents:search"))
    _age(client, LAST_SEEN_AT, 120)
    before = client.session[LAST_SEEN_AT]
    remaining = client.get(reverse("session_status")).json()["remaining"]
    assert settings.SESSION_IDLE_TIMEOUT - 125 < remaining <= settings.SESSION_IDLE_TIMEOUT - 120
    assert client.session[LAST_SEEN_AT] == before
    # "Continue" in the warning renews it.
    assert client.post(reverse("session_keepalive")).status_code == 200
    assert client.session[LAST_SEEN_AT] > before


def test_a_session_ends_after_a_shift_however_busy(
    client_for: Callable[[User | None], Client], clerk_a: User, settings: Any
) -> None:
    client = client_for(clerk_a)
    url = reverse("residents:search")
    client.get(url)
    _age(client, SIGNED_IN_AT, settings.SESSION_ABSOLUTE_TIMEOUT + 1)
    response = client.get(url)
    assert response["Location"] == reverse("account_login")


def test_every_page_carries_the_idle_warning(
    client_for: Callable[[User | None], Client], clerk_a: User, settings: Any
) -> None:
    body = client_for(clerk_a).get(reverse("residents:search")).content.decode()
    assert f'data-idle-timeout="{settings.SESSION_IDLE_TIMEOUT}"' in body
    assert 'id="idle-warning"' in body
    assert "まもなく自動的にログアウトします" in body


def test_deactivating_a_user_ends_their_sessions_at_once(
    client_for: Callable[[User | None], Client], admin_user: User, clerk_a: User
) -> None:
    """The admin unticks 有効; the clerk's open session is gone from the session store."""
    secret = enrol_totp(clerk_a)
    clerk = Client()
    clerk.post(reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"})
    clerk.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert clerk.get(reverse("residents:search")).status_code == 200
    key = clerk.session.session_key
    assert UserSession.objects.filter(user=clerk_a).count() == 1

    admin = client_for(admin_user)
    url = reverse("admin:accounts_user_changelist")
    response = admin.post(
        url, {"action": "deactivate", "_selected_action": [str(clerk_a.pk)]}, follow=True
    )
    assert response.status_code == 200
    clerk_a.refresh_from_db()
    assert not clerk_a.is_active
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(user=clerk_a).exists()
    assert clerk.get(reverse("residents:search")).status_code == 302
