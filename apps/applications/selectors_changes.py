"""Reads for the card-change screens (issue 10), scoped with policy.restrict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from apps.accounts import policy
from apps.accounts.models import User
from apps.cards.models import Card, ContinuedUse
from apps.cards.rules import (
    CONTINUED_USE_DUE_WINDOW_DAYS,
    CardState,
    endorsement_field_full,
    endorsement_room,
)
from apps.cards.services import endorsement_capacity
from apps.residents.models import Resident

# The due list is short by nature (cards brought in from other cities in two weeks); a cap
# keeps a page bounded even if the job stopped running for a while.
DUE_LIST_LIMIT = 500


@dataclass(frozen=True)
class CardRoom:
    """The card in use and how much of its endorsement field is left (R-CHG-2)."""

    card: Card | None
    used: int
    capacity: int

    @property
    def room(self) -> int:
        return endorsement_room(used=self.used, capacity=self.capacity)

    @property
    def full(self) -> bool:
        return self.card is not None and endorsement_field_full(
            used=self.used, capacity=self.capacity
        )


def card_room(*, resident: Resident) -> CardRoom:
    """The resident's current card (the caller scoped the resident) and its free lines."""
    card = (
        Card.objects.filter(resident=resident, state__in=[CardState.ACTIVE, CardState.SUSPENDED])
        .order_by("-applied_on")
        .first()
    )
    used = card.endorsements.count() if card is not None else 0
    return CardRoom(card=card, used=used, capacity=endorsement_capacity())


def open_continued_use_of(*, resident: Resident) -> ContinuedUse | None:
    """The move-in recorded on an earlier visit and not yet registered (R-CHG-4)."""
    return (
        ContinuedUse.objects.filter(
            card__resident=resident, registered_on__isnull=True, voided_on__isnull=True
        )
        .select_related("card")
        .first()
    )


def continued_use_due_for(*, user: User, today: date) -> list[ContinuedUse]:
    """The office's cards whose continued use must be registered in the next 14 days
    (R-CHG-4), the nearest deadline first: one range of the ``continueduse_due`` index."""
    until = today + timedelta(days=CONTINUED_USE_DUE_WINDOW_DAYS)
    rows = policy.restrict(
        ContinuedUse.objects.filter(
            registered_on__isnull=True,
            voided_on__isnull=True,
            register_by__gte=today,
            register_by__lte=until,
        ),
        user,
    )
    return list(
        rows.select_related("card__resident").order_by("register_by", "id")[:DUE_LIST_LIMIT]
    )
