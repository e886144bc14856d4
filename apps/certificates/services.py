"""Every write of the certificates app: the two e-certificates and the four PINs' lock state.

Certificates live on a card, so this app sits above apps.cards: it may call the card services,
never the other way round. Ending a card that carries certificates therefore goes through
:func:`card_end` here (R-CRT-5).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import User
from apps.cards.models import Card
from apps.cards.rules import END_STATES, CardState
from apps.cards.services import card_change_state
from apps.certificates.models import Certificate, CertificateState, PinState
from apps.certificates.rules import (
    PIN_MAX_TRIES,
    CertificateKind,
    PinKind,
    certificate_expiry,
    issue_refusal,
    newer_observation,
)
from apps.core.service import SystemActor, service

logger = logging.getLogger(__name__)

# The daily job that moves certificates whose expiry has passed (apps.certificates.tasks).
EXPIRY_JOB = SystemActor("certificates.expire_due")


@service
def certificate_issue(
    *,
    acting_user: User | SystemActor,
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
    refusal = issue_refusal(
        kind=kind,
        birth_date=resident.birth_date,
        on=issued_on,
        adult_ward=resident.adult_ward,
        legal_rep_requests=legal_rep_requests,
    )
    if refusal is not None:
        raise ValidationError(refusal)
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


@service
def card_end(
    *,
    acting_user: User | SystemActor,
    card: Card,
    to_state: CardState,
    on: date,
    reason: str = "",
) -> Card:
    """End a card (lost, returned, voided, expired) and its e-certificates with it (R-CRT-5).

    A card that simply expired leaves its certificates expired, not revoked: nothing was
    withdrawn. Any other end revokes them on ``on`` with the card's reason.
    """
    if to_state not in END_STATES:
        raise ValueError(f"{to_state} does not end a card; use cards.services.card_change_state")
    card = card_change_state(
        acting_user=acting_user, card=card, to_state=to_state, on=on, reason=reason
    )
    expired = to_state is CardState.EXPIRED
    Certificate.objects.filter(card=card, state=CertificateState.ACTIVE).update(
        state=CertificateState.EXPIRED if expired else CertificateState.REVOKED,
        revoked_on=on,
        revoke_reason=reason or to_state.label,
    )
    return card


@service
def pin_states_initialize(*, acting_user: User | SystemActor, card: Card) -> list[PinState]:
    """All four PINs start with their full number of tries (R-PIN table)."""
    return [
        PinState.objects.update_or_create(
            card=card, kind=kind, defaults={"tries_left": PIN_MAX_TRIES[kind]}
        )[0]
        for kind in PinKind
    ]


@service
def pin_state_observe(
    *,
    acting_user: User | SystemActor,
    card: Card,
    kind: PinKind,
    tries_left: int,
    observed_at: datetime | None = None,
) -> PinState:
    """Record the retry counter as a card read saw it (R-PIN-3: never the PIN itself).

    `observed_at` is when the card was read (default: now); a read that waited in the reader
    agent's outbox carries its own time, so later reads can be told from earlier ones.
    """
    if not 0 <= tries_left <= PIN_MAX_TRIES[kind]:
        raise ValidationError("暗証番号の残り回数が範囲外です。")
    state, _ = PinState.objects.select_for_update().update_or_create(
        card=card,
        kind=kind,
        defaults={"tries_left": tries_left, "observed_at": observed_at or timezone.now()},
    )
    return state


@service
def pin_states_observe(
    *,
    acting_user: User | SystemActor,
    card: Card,
    tries_left: Mapping[PinKind, int | None],
    read_at: datetime,
) -> None:
    """A card read's four counters (R-PIN-3): each moves only if this read is newer than the
    one that set it (outbox reads can arrive after later ones). None: the card has no such
    PIN, or did not say."""
    observed = {
        state.kind: state.observed_at
        for state in PinState.objects.select_for_update().filter(card=card)
    }
    for kind, tries in tries_left.items():
        if tries is None:
            continue
        if newer_observation(read_at=read_at, observed_at=observed.get(kind.value)):
            pin_state_observe(
                acting_user=acting_user, card=card, kind=kind, tries_left=tries, observed_at=read_at
            )


@service
def certificates_expire_due(*, acting_user: User | SystemActor = EXPIRY_JOB, on: date) -> int:
    """Active certificates whose expiry has passed by ``on`` become EXPIRED (R-CRT-1; daily).

    Valid through their expiry date. One set-based UPDATE over the partial index of active
    certificates by expiry; idempotent. A certificate never outlives its card (R-CRT-1 caps it
    at the card's expiry), so the certificates of a card that expired are caught here too.
    """
    moved = Certificate.objects.filter(state=CertificateState.ACTIVE, expires_on__lt=on).update(
        state=CertificateState.EXPIRED
    )
    logger.info("certificates expired: on=%s count=%d", on.isoformat(), moved)
    return moved


# --- issue 10: a change written on the card revokes SIGNING (R-CRT-4) ------------------


@service
def signing_revoke_for_change(
    *, acting_user: User | SystemActor, card: Card, on: date, reason: str
) -> int:
    """Revoke the card's active SIGNING certificate after a change of name, former surname,
    address, sex or date of birth (R-CRT-4): it carries those facts. AUTH stays.

    Returns how many were revoked (0 when the card had none, as for an under-15). A new
    SIGNING certificate is its own application.
    """
    Card.objects.select_for_update().filter(pk=card.pk).values_list("pk").get()
    return Certificate.objects.filter(
        card=card, kind=CertificateKind.SIGNING, state=CertificateState.ACTIVE
    ).update(state=CertificateState.REVOKED, revoked_on=on, revoke_reason=reason[:200])


# --- counter procedures: revoke a certificate, reset PINs (R-CRT-4, R-PIN-1) --------------------


@service
def certificate_revoke(
    *, acting_user: User | SystemActor, certificate: Certificate, on: date, reason: str
) -> Certificate:
    """End one active certificate while the card stays in use (the holder's request, or a
    change of what SIGNING carries, R-CRT-4)."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.state != CertificateState.ACTIVE:
        raise ValidationError("この電子証明書は既に有効ではありません。")
    certificate.state = CertificateState.REVOKED
    certificate.revoked_on = on
    certificate.revoke_reason = reason[:200]
    certificate.save()
    return certificate


@service
def pins_reset(
    *, acting_user: User | SystemActor, card: Card, kinds: frozenset[PinKind]
) -> list[PinState]:
    """The PINs ``kinds`` were unlocked or set anew on the national terminal (R-PIN-1): each
    has its full number of tries again. R-PIN-3: the new PIN is never seen here; the caller
    records *that* it was reset."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.state != CardState.ACTIVE:
        raise ValidationError("有効なカードでないため、暗証番号のロック解除はできません。")
    now = timezone.now()
    return [
        PinState.objects.update_or_create(
            card=card, kind=kind, defaults={"tries_left": PIN_MAX_TRIES[kind], "observed_at": now}
        )[0]
        for kind in PinKind
        if kind in kinds
    ]
