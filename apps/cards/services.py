"""Every write to a card. Each function is one service (apps.core.service: a transaction whose
history rows name the actor) that locks the card it changes."""

from __future__ import annotations

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.cards.models import CURRENT_STATES, Card
from apps.cards.rules import END_STATES, CardState, can_transition, card_expiry
from apps.core.service import SystemActor, service
from apps.residents.models import Resident

logger = logging.getLogger(__name__)

# The daily job that moves cards whose expiry has passed (apps.cards.tasks).
EXPIRY_JOB = SystemActor("cards.expire_due")
EXPIRY_REASON = "有効期限の到来"


def _locked(card: Card) -> Card:
    return Card.objects.select_for_update().select_related("resident").get(pk=card.pk)


@service
def card_order(
    *,
    acting_user: User | SystemActor,
    resident: Resident,
    applied_on: date,
    former_surname_listed: bool = False,
) -> Card:
    """A card application was accepted and the card ordered from J-LIS (R-ISS-1)."""
    Resident.objects.select_for_update().filter(pk=resident.pk).first()
    if former_surname_listed and not resident.former_surname:
        raise ValidationError("旧氏が登録されていないため、旧氏併記はできません。")
    return Card.objects.create(
        resident=resident,
        # The card is delivered to the office that keeps the holder's register.
        office_id=resident.office_id,
        state=CardState.ORDERED,
        applied_on=applied_on,
        former_surname_listed=former_surname_listed,
    )


@service
def card_arrive(
    *, acting_user: User | SystemActor, card: Card, issued_on: date, arrived_on: date
) -> Card:
    """J-LIS made the card on `issued_on` (R-VAL-1) and it reached the city on `arrived_on`.

    The expiry is computed here, once, from the issue date (R-VAL-2…6).
    """
    card = _locked(card)
    _check_transition(card, CardState.ARRIVED)
    if arrived_on < issued_on:
        raise ValidationError("到着日が発行日より前になっています。")
    resident = card.resident
    card.issued_on = issued_on
    try:
        card.expires_on = card_expiry(
            birth_date=resident.birth_date,
            issued_on=issued_on,
            applied_on=card.applied_on,
            residence=resident.residence,
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    card.arrived_on = arrived_on
    card.state = CardState.ARRIVED
    card.save()
    return card


@service
def card_hand_over(*, acting_user: User | SystemActor, card: Card, on: date) -> Card:
    """The card is handed to the holder and becomes their current card."""
    card = _locked(card)
    _check_transition(card, CardState.ACTIVE)
    if card.expires_on is not None and on > card.expires_on:
        raise ValidationError("有効期限を過ぎたカードは交付できません。")
    others = (
        Card.objects.select_for_update()
        .filter(resident_id=card.resident_id, state__in=CURRENT_STATES)
        .exclude(pk=card.pk)
    )
    if others.exists():
        # R-REI-2: the old card must be returned (or recorded lost) before the new one is given.
        raise ValidationError("以前のカードが返納または紛失の手続をされていません。")
    card.state = CardState.ACTIVE
    card.handed_over_on = on
    card.save()
    return card


@service
def card_change_state(
    *, acting_user: User | SystemActor, card: Card, to_state: CardState, on: date, reason: str = ""
) -> Card:
    """Move a card along the transition table (apps.cards.rules.CARD_TRANSITIONS).

    Ending states record the day and the reason. This is the card alone: a card that carries
    e-certificates is ended through apps.certificates.services.card_end, which ends them with
    it (R-CRT-5). The cards app knows nothing of certificates (they sit above it).
    """
    card = _locked(card)
    _check_transition(card, to_state)
    card.state = to_state
    if to_state in END_STATES:
        card.ended_on = on
        card.end_reason = reason
    try:
        card.save()
    except IntegrityError:
        raise ValidationError("この住民には既に有効なカードがあります。") from None
    return card


def _check_transition(card: Card, to_state: CardState) -> None:
    if not can_transition(CardState(card.state), to_state):
        raise ValidationError(
            f"カードの状態を「{CardState(card.state).label}」から「{to_state.label}」に変更できません。"
        )


@service
def cards_expire_due(*, acting_user: User | SystemActor = EXPIRY_JOB, on: date) -> int:
    """Cards in use whose expiry has passed by ``on`` become EXPIRED (R-VAL; run daily).

    A card is valid through its expiry date, so a card expiring on ``on`` stays in use that
    day. One set-based UPDATE over the partial index of current cards by expiry; the history
    triggers write one row per card, naming the job. Idempotent: a second run finds nothing.
    The ended day is the last valid day. Certificates expire by their own (earlier or equal)
    dates in certificates_expire_due.
    """
    moved = Card.objects.filter(state__in=CURRENT_STATES, expires_on__lt=on).update(
        state=CardState.EXPIRED,
        ended_on=F("expires_on"),
        end_reason=EXPIRY_REASON,
        updated_at=timezone.now(),
    )
    logger.info("cards expired: on=%s count=%d", on.isoformat(), moved)
    return moved
