"""Failed sign-ins are limited per source with a back-off, in Redis, and logged (R-AUD-1)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from apps.accounts import signin
from apps.accounts.models import User
from apps.audit.models import AccessLog, Action, Outcome
from tests.services import redis_url

pytestmark = pytest.mark.django_db

RIGHT = "test-pass-123456"


def _try(client: Client, username: str, password: str) -> str:
    response = client.post(reverse("account_login"), {"login": username, "password": password})
    if response.status_code == 302:
        return "accepted"
    body = response.content.decode()
    return "waiting" if "ログインできません" in body else "wrong"


def test_five_failures_make_that_source_wait_not_the_clerk(clerk_a: User) -> None:
    """A stranger typing clerk_a's name at another machine cannot lock clerk_a out."""
    stranger = Client(REMOTE_ADDR="10.0.0.66")
    clerk_pc = Client(REMOTE_ADDR="10.0.0.11")
    results = [_try(stranger, "clerk_a", "guess-guess-guess") for _ in range(6)]
    assert results == ["wrong"] * 5 + ["waiting"]
    assert _try(stranger, "clerk_a", RIGHT) == "waiting"  # even the right password, from there
    assert _try(clerk_pc, "clerk_a", RIGHT) == "accepted"


def test_the_wait_doubles_and_ends(clerk_a: User, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr("apps.accounts.signin.time.time", lambda: now[0])
    source = Client(REMOTE_ADDR="10.0.0.66")
    for _ in range(5):
        assert _try(source, "clerk_a", "guess-guess-guess") == "wrong"
    wait = signin.wait_before_attempt(username="clerk_a", ip="10.0.0.66")
    assert wait is not None
    assert wait.seconds == settings.SIGNIN_BACKOFF_SECONDS
    now[0] += settings.SIGNIN_BACKOFF_SECONDS + 1
    assert _try(source, "clerk_a", "guess-guess-guess") == "wrong"  # the wait ended
    wait = signin.wait_before_attempt(username="clerk_a", ip="10.0.0.66")
    assert wait is not None
    assert wait.seconds == 2 * settings.SIGNIN_BACKOFF_SECONDS
    now[0] += 2 * settings.SIGNIN_BACKOFF_SECONDS + 1
    assert _try(source, "clerk_a", RIGHT) == "accepted"
    assert signin.wait_before_attempt(username="clerk_a", ip="10.0.0.66") is None


def test_one_source_spraying_many_names_is_stopped(clerk_a: User) -> None:
    source = Client(REMOTE_ADDR="10.0.0.77")
    for n in range(settings.SIGNIN_IP_FAILURES):
        assert _try(source, f"user{n}", "guess-guess-guess") == "wrong"
    assert _try(source, "clerk_a", RIGHT) == "waiting"
    assert _try(Client(REMOTE_ADDR="10.0.0.11"), "clerk_a", RIGHT) == "accepted"


def test_the_counters_live_in_redis_shared_by_every_worker(clerk_a: User) -> None:
    """With the in-process cache, 2 gunicorn workers gave an attacker twice the tries."""
    import redis

    url = redis_url()
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    _try(Client(REMOTE_ADDR="10.0.0.66"), "clerk_a", "guess-guess-guess")
    keys = [key.decode() for key in redis.Redis.from_url(url).scan_iter(match="madoguchi:*")]
    assert any(":signin:pair:" in key for key in keys)
    assert any(":signin:ip:10.0.0.66" in key for key in keys)
    assert not any("clerk_a" in key for key in keys)  # the name is hashed


def test_every_failure_is_logged_without_the_typed_name(clerk_a: User) -> None:
    source = Client(REMOTE_ADDR="10.0.0.66")
    _try(source, "clerk_a", "guess-guess-guess")
    _try(source, "123456789018", "guess-guess-guess")  # a My Number typed as the name
    for _ in range(5):
        _try(source, "clerk_a", "guess-guess-guess")
    rows = list(AccessLog.objects.order_by("seq"))
    assert [row.action for row in rows] == [Action.SIGN_IN_FAILED] * 7
    assert rows[0].actor == clerk_a
    assert rows[0].ip_address == "10.0.0.66"
    assert rows[1].actor is None
    assert "123456789018" not in str(rows[1].detail)
    assert rows[-1].outcome == Outcome.DENIED
    assert rows[-1].detail["reason"] == "rate_limited"
