"""Every sign-in, failed sign-in and sign-out writes an access-log row (R-AUD-1).

Connected in AuditConfig.ready. The rows are written in their own transaction: a failed
sign-in changes nothing else that could commit with it.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from allauth.mfa.signals import authentication_failed as mfa_failed
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.http import HttpRequest

from apps.accounts.models import User
from apps.accounts.signals import sign_in_failed
from apps.audit.models import Action, Outcome
from apps.audit.services import access_log_record


def _ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def on_sign_in_failed(
    sender: Any, request: HttpRequest, username: str, reason: str, **kwargs: Any
) -> None:
    # The typed name is kept only when it names an account: anything else might be a password
    # typed into the wrong field, or a My Number.
    actor = User.objects.filter(username=username.strip()).first() if username else None
    with transaction.atomic():
        access_log_record(
            actor=actor,
            action=Action.SIGN_IN_FAILED,
            outcome=Outcome.DENIED if reason == "rate_limited" else Outcome.FAILED,
            detail={"reason": reason, "known_user": actor is not None},
            ip_address=_ip(request),
        )


def on_mfa_failed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    with transaction.atomic():
        access_log_record(
            actor=user,
            action=Action.SIGN_IN_FAILED,
            outcome=Outcome.FAILED,
            detail={
                "reason": "second_factor",
                "reauthentication": bool(kwargs.get("reauthentication")),
            },
            ip_address=_ip(request),
        )


def on_signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    with transaction.atomic():
        access_log_record(actor=user, action=Action.SIGN_IN, ip_address=_ip(request))


def on_signed_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is None or not user.is_authenticated:
        return
    with transaction.atomic():
        access_log_record(actor=user, action=Action.SIGN_OUT, ip_address=_ip(request))


def connect() -> None:
    sign_in_failed.connect(on_sign_in_failed, dispatch_uid="audit.sign_in_failed")
    mfa_failed.connect(on_mfa_failed, dispatch_uid="audit.mfa_failed")
    user_logged_in.connect(on_signed_in, dispatch_uid="audit.signed_in")
    user_logged_out.connect(on_signed_out, dispatch_uid="audit.signed_out")
