"""Multi-factor authentication for every member of staff (django-allauth MFA).

A session reaches pages with personal data only after a second factor (TOTP, WebAuthn or a
recovery code) in this session: `MfaRequiredMiddleware` enforces it. Whether and when a factor
was used is read from allauth's own authentication records, which are bound to the user.
A member of staff without any authenticator yet (a new account) is sent to enrol a TOTP
authenticator first; enrolling proves possession of the new factor and completes the session.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.http import HttpRequest

from apps.accounts.models import User


def _records(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return [r for r in get_authentication_records(request, user) if isinstance(r, dict)]


def session_has_mfa(request: HttpRequest) -> bool:
    """The signed-in user used a second factor in this session."""
    return any(record.get("method") == "mfa" for record in _records(request))


def seconds_since_authentication(request: HttpRequest) -> float | None:
    """Since the user last proved who they are (sign-in or re-authentication); None if never.

    R-AUD-3 asks for this to be within 5 minutes before a My Number is revealed.
    """
    times = [float(record["at"]) for record in _records(request) if "at" in record]
    if not times:
        return None
    return max(0.0, time.time() - max(times))


def mark_second_factor(request: HttpRequest, user: User, *, kind: str) -> None:
    """Record that `user` proved a second factor of `kind` in this session."""
    record_authentication(request, user, method="mfa", type=kind)


def has_authenticator(user: User) -> bool:
    """Any factor but recovery codes (they come with one and never stand alone)."""
    factors = Authenticator.objects.filter(user=user)
    return bool(factors.exclude(type=Authenticator.Type.RECOVERY_CODES).exists())


def totp_enrol(user: User, *, secret: str) -> None:
    """Give `user` a TOTP authenticator with a known secret (demo data, benchmarks)."""
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, secret)


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The 6-digit code an authenticator app would show for `secret` now (or at `at`)."""
    counter = int(time.time() if at is None else at) // settings.MFA_TOTP_PERIOD
    return str(format_hotp_value(hotp_value(secret, counter)))
