"""A new installation's first account: `manage.py createsuperuser`, then the second factor at
its first sign-in (README "Deploying → The first administrator")."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "first-admin-of-the-city-2026"


def test_createsuperuser_makes_a_system_administrator_who_must_enrol_a_factor(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, username="city_admin", email="")
    admin = User.objects.get(username="city_admin")
    assert (admin.role, admin.is_superuser, admin.is_staff, admin.office) == (
        Role.ADMIN,
        True,
        True,
        None,
    )
    response = client.post(reverse("account_login"), {"login": "city_admin", "password": PASSWORD})
    assert response.status_code == 302
    # Signed in with the password alone: the admin is sent to enrol TOTP, nothing else opens.
    admin_page = client.get(reverse("admin:index"))
    assert admin_page.status_code == 302
    assert admin_page["Location"].split("?")[0] == reverse("mfa_activate_totp")


def test_an_explicit_role_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    User.objects.create_superuser("auditor_root", password=PASSWORD, role=Role.AUDITOR)
    assert User.objects.get(username="auditor_root").role == Role.AUDITOR
