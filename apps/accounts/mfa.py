"""Multi-factor authentication for every member of staff (django-allauth MFA).

A session reaches pages with personal data only after a second factor (TOTP, WebAuthn or a
recovery code) in this session: `MfaRequiredMiddleware` enforces it. Whether and when a factor
was used is read from allauth's own authentication records, which are bound to the user.
A member of staff without any authenticator yet (a new account) is sent to enrol a TOTP
authenticator first; enrolling proves possession of the new factor and completes the session.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

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


# --- Second-factor secrets at rest ----------------------------------------------------------
# allauth keeps each TOTP key and recovery-code seed in `mfa_authenticator.data` and hands it
# to the MFA adapter to encrypt first (StaffMfaAdapter). Sealed form: "mfa1:" + base64url of a
# 12-byte nonce and the AES-256-GCM ciphertext with its tag. The key is derived from
# SECRET_KEY with HKDF under its own label, so it needs no secret of its own to deploy, is
# never the key of anything else, and follows SECRET_KEY's rotation: a value sealed under a
# key of SECRET_KEY_FALLBACKS still opens (re-enrol, or `manage.py mfa_reseal`, before the
# old key is dropped). Opening is strict: a value in the clear, as a person with write access
# to the database but not the key might plant to give a clerk a factor they know, is refused.

_SEALED_PREFIX = "mfa1:"
_NONCE_BYTES = 12
_AAD = b"madoguchi:mfa-secret"


class FactorSecretError(Exception):
    """A stored second-factor secret is not sealed under any of this installation's keys."""


def _factor_key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"madoguchi:mfa-secret:v1"
    ).derive(secret_key.encode())


@sensitive_variables("text")
def seal_factor_secret(text: str) -> str:
    """Encrypt a TOTP key or recovery-code seed for storage (the active SECRET_KEY)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_factor_key(settings.SECRET_KEY)).encrypt(nonce, text.encode(), _AAD)
    return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _sealed_body(stored: str) -> bytes:
    if not stored.startswith(_SEALED_PREFIX):
        raise FactorSecretError("second-factor secret is not sealed")
    try:
        return base64.urlsafe_b64decode(stored[len(_SEALED_PREFIX) :].encode("ascii"))
    except ValueError:
        raise FactorSecretError("second-factor secret is not valid base64") from None


def _open_under(body: bytes, secret_key: str) -> str | None:
    nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
    try:
        return AESGCM(_factor_key(secret_key)).decrypt(nonce, sealed, _AAD).decode()
    except InvalidTag:
        return None


@sensitive_variables()
def open_factor_secret(stored: str) -> str:
    """The secret sealed by `seal_factor_secret`, under SECRET_KEY or one of its fallbacks."""
    body = _sealed_body(stored)
    for secret_key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        clear = _open_under(body, secret_key)
        if clear is not None:
            return clear
    raise FactorSecretError("second-factor secret opens under no configured key")


def reseal_factor_secrets(*, authenticators: Any, from_clear: bool) -> int:
    """Seal every stored second-factor secret under today's SECRET_KEY; the rows changed.

    `authenticators` is allauth's Authenticator manager (or a migration's historical one).
    Values in the clear are sealed only with `from_clear` (the migration that introduced
    sealing); otherwise they are refused, as `open_factor_secret` refuses them.
    """
    changed = 0
    for row in authenticators.filter(type__in=("totp", "recovery_codes")).order_by("pk"):
        data = dict(row.data)
        before = dict(data)
        for key in ("secret", "seed"):
            if key in data:
                data[key] = _resealed(data[key], from_clear=from_clear)
        if "migrated_codes" in data:
            data["migrated_codes"] = [
                _resealed(code, from_clear=from_clear) for code in data["migrated_codes"]
            ]
        if data != before:
            row.data = data
            row.save(update_fields=["data"])
            changed += 1
    return changed


def _resealed(stored: str, *, from_clear: bool) -> str:
    if not stored.startswith(_SEALED_PREFIX) and from_clear:
        return seal_factor_secret(stored)
    if _open_under(_sealed_body(stored), settings.SECRET_KEY) is not None:
        return stored  # already under today's key: untouched
    return seal_factor_secret(open_factor_secret(stored))  # under a fallback, or refused
