from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        authenticator_added.connect(_enrolled, dispatch_uid="accounts.mfa_enrolled")


def _enrolled(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    """Enrolling a factor proves possession of it: the session has its second factor."""
    from apps.accounts import mfa

    if request is not None and getattr(request, "user", None) == user:
        mfa.mark_second_factor(request, user, kind=str(authenticator.type))
