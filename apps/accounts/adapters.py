from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from apps.accounts import mfa, signals, signin


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator; nobody signs themselves up.

    Failed sign-ins are limited by `apps.accounts.signin` instead of allauth's per-login
    limit, which lets anyone lock a clerk out by typing the clerk's user name five times.
    """

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        wait = signin.wait_before_attempt(
            username=str(credentials.get("username", "")), ip=self.get_client_ip(request)
        )
        if wait is not None:
            signals.sign_in_failed.send(
                sender=type(self),
                request=request,
                username=str(credentials.get("username", "")),
                reason="rate_limited",
            )
            raise forms.ValidationError(wait.message)

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user: AbstractBaseUser | None = super().authenticate(request, **credentials)
        if user is not None:
            signin.record_success(
                username=str(credentials.get("username", "")), ip=self.get_client_ip(request)
            )
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        username = str(credentials.get("username", ""))
        signin.record_failure(username=username, ip=self.get_client_ip(request))
        signals.sign_in_failed.send(
            sender=type(self), request=request, username=username, reason="password"
        )


class StaffMfaAdapter(DefaultMFAAdapter):
    """Second-factor secrets (the TOTP key, the recovery-code seed) are sealed before allauth
    stores them, so a copy of the database or a backup alone cannot produce a clerk's codes
    (`apps.accounts.mfa.seal_factor_secret`)."""

    def encrypt(self, text: str) -> str:
        return mfa.seal_factor_secret(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa.open_factor_secret(encrypted_text)
