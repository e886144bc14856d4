"""Authentication backends: Django's and django-allauth's, loading the user with the office.

Every page's header names the user's office (templates/base.html), so the user row is read
with its office in one query instead of a second query on each request. Whichever backend
signed the user in (the session remembers it) loads them this way.
"""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend

from apps.accounts.models import User


class _LoadsOffice:
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("office").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class StaffModelBackend(_LoadsOffice, ModelBackend):
    """Django's username and password backend (the admin's sign-in uses it)."""


class StaffAuthenticationBackend(_LoadsOffice, AuthenticationBackend):
    """django-allauth's backend (the staff sign-in page)."""
