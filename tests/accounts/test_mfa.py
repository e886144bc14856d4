"""Every member of staff signs in with a second factor before any page with personal data.

The "password alone" tests walk every URL pattern of the site (tests/urlwalk.py), so a new
page is covered without being listed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import StringIO
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.mfa import (
    FactorSecretError,
    open_factor_secret,
    reseal_factor_secrets,
    totp_code,
)
from apps.accounts.middleware import MFA_EXEMPT_URL_NAMES
from apps.accounts.models import User
from apps.audit.models import AccessLog, Action, Outcome
from apps.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo
from tests.auth import TEST_TOTP_SECRET, enrol_totp, password_only_login
from tests.urlwalk import url_patterns

pytestmark = pytest.mark.django_db

STEP_PAGES = {"/accounts/2fa/authenticate/", "/accounts/2fa/totp/activate/"}


def _guarded_urls() -> list[tuple[str, str]]:
    return [
        (name, path)
        for name, path in url_patterns()
        if name not in MFA_EXEMPT_URL_NAMES and not name.startswith("admin:")
    ] + [("admin:index", "/admin/"), ("admin:users", "/admin/accounts/user/")]


def _assert_nothing_reachable(client: Client, *, expected_step: str) -> None:
    urls = _guarded_urls()
    assert len(urls) > 30  # the walk found the site
    for name, path in urls:
        response = client.get(path)
        if path.startswith("/api/"):
            assert response.status_code in {401, 403, 405}, (name, response.status_code)
            continue
        if response.status_code == 405:  # a POST-only view refuses GET before anything else
            continue
        assert response.status_code == 302, (name, response.status_code)
        allowed = {expected_step, reverse("account_login"), reverse("admin:login")}
        assert response["Location"].split("?")[0] in allowed, (
            name,
            response["Location"],
        )


def test_signing_in_as_a_demo_clerk_with_the_password_alone_reaches_no_personal_data(
    client: Client,
) -> None:
    """The acceptance line: the demo's clerk_a, password typed, second factor not given."""
    seed_demo(today=date(2026, 11, 27), residents=3)
    response = client.post(
        reverse("account_login"), {"login": "clerk_a", "password": DEMO_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    _assert_nothing_reachable(client, expected_step=reverse("mfa_authenticate"))
    # With the demo's TOTP code the same session goes in.
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("residents:search")).status_code == 200


def test_a_session_without_the_second_factor_reaches_nothing(client: Client, clerk_a: User) -> None:
    """However the session came about (an old session, a bug in a sign-in path)."""
    enrol_totp(clerk_a)
    password_only_login(client, clerk_a)
    _assert_nothing_reachable(client, expected_step=reverse("mfa_reauthenticate"))


@pytest.mark.django_db(transaction=True)  # allauth signals the new factor after commit
def test_a_new_account_must_enrol_a_second_factor_first(client: Client, clerk_a: User) -> None:
    response = client.post(
        reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"}
    )
    assert response.status_code == 302  # signed in with the password only
    _assert_nothing_reachable(client, expected_step=reverse("mfa_activate_totp"))

    # Enrolling asks for the password again (allauth: changing factors needs a fresh
    # authentication), shows a secret, and the code from it proves the new factor.
    page = client.get(reverse("mfa_activate_totp"), follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": "test-pass-123456"})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=clerk_a, type="totp").exists()
    assert client.get(reverse("residents:search")).status_code == 200


def test_totp_sign_in_is_logged_and_a_wrong_code_is_refused_and_logged(
    client: Client, clerk_a: User
) -> None:
    """R-AUD-1: every sign-in and failed sign-in writes a row."""
    secret = enrol_totp(clerk_a)
    client.post(reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"})
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200  # the form again, with its error
    assert client.get(reverse("residents:search")).status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("residents:search")).status_code == 200
    rows = list(AccessLog.objects.order_by("seq").values_list("action", "outcome", "actor"))
    assert rows == [
        (Action.SIGN_IN_FAILED, Outcome.FAILED, clerk_a.pk),
        (Action.SIGN_IN, Outcome.OK, clerk_a.pk),
    ]


def test_a_recovery_code_is_a_second_factor(client: Client, clerk_a: User) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    enrol_totp(clerk_a)
    code = RecoveryCodes.activate(clerk_a).get_unused_codes()[0]
    client.post(reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"})
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.get(reverse("residents:search")).status_code == 200


def test_webauthn_keys_can_be_added_once_signed_in(
    client_for: Callable[[User | None], Client], clerk_a: User
) -> None:
    """A security key (WebAuthn) is the other second factor; its page is the staff's own."""
    enrol_totp(clerk_a)
    client = client_for(clerk_a)
    assert client.get(reverse("mfa_index")).status_code == 200
    # Adding a factor needs the password again first.
    assert client.get(reverse("mfa_add_webauthn"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(reverse("account_reauthenticate"), {"password": "test-pass-123456"})
    page = client.get(reverse("mfa_add_webauthn"))
    assert page.status_code == 200
    assert b"credential" in page.content.lower()


# --- Second-factor secrets at rest (apps.accounts.mfa.seal_factor_secret) -------------------


def _stored_data(authenticator_id: int) -> str:
    """The row's data as the database holds it (what a dump or a backup carries)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data::text FROM mfa_authenticator WHERE id = %s", [authenticator_id])
        (text,) = cursor.fetchone()
    return str(text)


def test_the_totp_key_and_the_recovery_seed_are_sealed_in_the_database(
    client: Client, clerk_a: User
) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    secret = enrol_totp(clerk_a)
    codes = RecoveryCodes.activate(clerk_a)
    seed = open_factor_secret(codes.instance.data["seed"])
    totp = Authenticator.objects.get(user=clerk_a, type="totp")
    stored = _stored_data(totp.pk)
    assert secret not in stored
    assert '"secret": "mfa1:' in stored
    assert seed not in _stored_data(codes.instance.pk)
    # …and the factor still works: sign in with a code from the key.
    client.post(reverse("account_login"), {"login": "clerk_a", "password": "test-pass-123456"})
    assert client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)}).status_code == 302
    assert client.get(reverse("residents:search")).status_code == 200


def test_a_key_written_into_the_database_in_the_clear_is_refused(clerk_a: User) -> None:
    """Write access to the database without the application's key cannot give a clerk a
    factor whose codes the writer knows."""
    enrol_totp(clerk_a)
    Authenticator.objects.filter(user=clerk_a, type="totp").update(
        data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    with pytest.raises(FactorSecretError):
        open_factor_secret(Authenticator.objects.get(user=clerk_a, type="totp").data["secret"])
    with pytest.raises(FactorSecretError):
        open_factor_secret("mfa1:" + "A" * 40)  # sealed under some other key


def test_after_a_secret_key_rotation_factors_open_under_the_fallback_until_resealed(
    settings: Any, clerk_a: User
) -> None:
    """README "Key rotation": the old SECRET_KEY moves to SECRET_KEY_FALLBACKS, `mfa_reseal`
    seals every factor under the new one, then the old key can go."""
    old = settings.SECRET_KEY
    secret = enrol_totp(clerk_a)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 50, [old]
    stored = Authenticator.objects.get(user=clerk_a, type="totp").data["secret"]
    assert open_factor_secret(stored) == secret  # under the fallback
    out = StringIO()
    call_command("mfa_reseal", stdout=out)
    assert "1 authenticator(s) resealed" in out.getvalue()
    call_command("mfa_reseal", stdout=(again := StringIO()))
    assert "0 authenticator(s) resealed" in again.getvalue()  # idempotent
    settings.SECRET_KEY_FALLBACKS = []
    resealed = Authenticator.objects.get(user=clerk_a, type="totp").data["secret"]
    assert resealed != stored
    assert open_factor_secret(resealed) == secret


def test_the_migration_seals_what_was_stored_in_the_clear(clerk_a: User) -> None:
    """Authenticators enrolled before sealing existed (migration accounts 0003)."""
    plain = Authenticator.objects.create(
        user=clerk_a, type="totp", data={"secret": TEST_TOTP_SECRET}
    )
    seed = "ab" * 40
    codes = Authenticator.objects.create(
        user=clerk_a, type="recovery_codes", data={"seed": seed, "used_mask": 3}
    )
    with pytest.raises(CommandError, match="not sealed; nothing changed"):
        call_command("mfa_reseal")  # the command refuses values in the clear
    assert Authenticator.objects.get(pk=plain.pk).data == {"secret": TEST_TOTP_SECRET}
    assert reseal_factor_secrets(authenticators=Authenticator.objects, from_clear=True) == 2
    plain.refresh_from_db()
    codes.refresh_from_db()
    assert open_factor_secret(plain.data["secret"]) == TEST_TOTP_SECRET
    assert open_factor_secret(codes.data["seed"]) == seed
    assert codes.data["used_mask"] == 3
