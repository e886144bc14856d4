from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import User
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.models import Certificate, CertificateState, PinState
from apps.certificates.rules import (
    PIN_MAX_TRIES,
    CertificateKind,
    PinKind,
    certificate_expiry,
    may_issue,
)


@transaction.atomic
def certificate_issue(
    *,
    acting_user: User | None,
    card: Card,
    kind: CertificateKind,
    serial: str,
    issued_on: date,
    legal_rep_requests: bool = False,
) -> Certificate:
    """Issue one certificate on a card (R-CRT-1 expiry, R-CRT-2 eligibility, R-CRT-3 later)."""
    card = Card.objects.select_for_update().select_related("resident").get(pk=card.pk)
    resident = card.resident
    if card.state not in (CardState.ARRIVED, CardState.ACTIVE) or card.expires_on is None:
        raise ValidationError("このカードには電子証明書を発行できません。")
    if not may_issue(
        kind=kind,
        birth_date=resident.birth_date,
        on=issued_on,
        adult_ward=resident.adult_ward,
        legal_rep_requests=legal_rep_requests,
    ):
        raise ValidationError(f"{kind.label}は発行できません (R-CRT-2)。")
    if issued_on >= card.expires_on:
        raise ValidationError("カードの有効期限後に電子証明書は発行できません。")
    serial = serial.lower().replace(":", "")
    current = Certificate.objects.select_for_update().filter(
        card=card, kind=kind, state=CertificateState.ACTIVE
    )
    for old in current:
        old.state = CertificateState.REVOKED
        old.revoked_on = issued_on
        old.revoke_reason = "新しい証明書の発行"
        old.save()
    return Certificate.objects.create(
        card=card,
        kind=kind,
        serial=serial,
        issued_on=issued_on,
        expires_on=certificate_expiry(
            birth_date=resident.birth_date, issued_on=issued_on, card_expires_on=card.expires_on
        ),
    )


@transaction.atomic
def certificate_revoke(
    *, acting_user: User | None, certificate: Certificate, on: date, reason: str
) -> Certificate:
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.state != CertificateState.ACTIVE:
        raise ValidationError("この電子証明書は既に有効ではありません。")
    certificate.state = CertificateState.REVOKED
    certificate.revoked_on = on
    certificate.revoke_reason = reason
    certificate.save()
    return certificate


def certificates_end_with_card(*, card: Card, on: date, reason: str, expired: bool = False) -> int:
    """R-CRT-5: expiry, return, voiding or reissue of the card ends its certificates.

    Called inside the card service's transaction, with the card already locked. A card that
    simply expired leaves its certificates expired, not revoked: nothing was withdrawn.
    """
    state = CertificateState.EXPIRED if expired else CertificateState.REVOKED
    return Certificate.objects.filter(card=card, state=CertificateState.ACTIVE).update(
        state=state, revoked_on=on, revoke_reason=reason
    )


@transaction.atomic
def pin_states_initialize(*, card: Card) -> list[PinState]:
    """All four PINs start with their full number of tries (R-PIN table)."""
    return [
        PinState.objects.update_or_create(
            card=card, kind=kind, defaults={"tries_left": PIN_MAX_TRIES[kind]}
        )[0]
        for kind in PinKind
    ]


@transaction.atomic
def pin_state_observe(
    *, card: Card, kind: PinKind, tries_left: int, observed_at: datetime | None = None
) -> PinState:
    """Record the retry counter as a card read saw it (R-PIN-3: never the PIN itself).

    `observed_at` is when the card was read (default: now); a read that waited in the reader
    agent's outbox carries its own time, so later reads can be told from earlier ones.
    """
    from django.utils import timezone

    if not 0 <= tries_left <= PIN_MAX_TRIES[kind]:
        raise ValidationError("暗証番号の残り回数が範囲外です。")
    state, _ = PinState.objects.select_for_update().update_or_create(
        card=card,
        kind=kind,
        defaults={"tries_left": tries_left, "observed_at": observed_at or timezone.now()},
    )
    return state


@transaction.atomic
def certificates_expire_due(*, on: date) -> int:
    """Mark certificates whose expiry has passed as expired (run daily; idempotent)."""
    return Certificate.objects.filter(state=CertificateState.ACTIVE, expires_on__lt=on).update(
        state=CertificateState.EXPIRED
    )
