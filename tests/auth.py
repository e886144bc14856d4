"""How tests sign in now that every page with personal data needs a second factor.

- `mfa_login(client, user)`: a Django test client with a complete session (password and
  second factor recorded the way allauth records them). `client_for(user)` uses it; use
  `password_only_login` only in tests that prove a password alone is not enough.
- Browser tests sign in through the real form and the real TOTP step
  (`tests/e2e/conftest.py: login`), with a TOTP secret enrolled by `enrol_totp`.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.test import Client

from apps.accounts.mfa import mark_second_factor, totp_enrol
from apps.accounts.models import User

TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _recorded(client: Client, user: User, *, second_factor: bool) -> Client:
    from allauth.account.internal.flows.login import record_authentication

    client.force_login(user)
    session = client.session
    request = HttpRequest()
    request.session = session
    request.user = user
    record_authentication(request, user, method="password", username=user.username)
    if second_factor:
        mark_second_factor(request, user, kind="totp")
    session.save()
    return client


def mfa_login(client: Client, user: User) -> Client:
    return _recorded(client, user, second_factor=True)


def password_only_login(client: Client, user: User) -> Client:
    return _recorded(client, user, second_factor=False)


def enrol_totp(user: User) -> str:
    totp_enrol(user, secret=TEST_TOTP_SECRET)
    return TEST_TOTP_SECRET
