"""Every read of residents goes through `residents_for`, the one scoping selector.

Out-of-scope residents simply are not in the queryset, so views answer 404, never 403: a
clerk cannot even learn that a resident of another office exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from apps.accounts import policy
from apps.accounts.models import User
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.models import Certificate, PinState
from apps.residents.crypto import my_number_index
from apps.residents.kana import normalize_kana
from apps.residents.models import Resident

SEARCH_LIMIT = 50


def residents_for(user: User) -> QuerySet[Resident]:
    return policy.restrict(Resident.objects.all(), user)


def resident_get(*, user: User, resident_id: uuid.UUID) -> Resident:
    try:
        return residents_for(user).get(pk=resident_id)
    except Resident.DoesNotExist:
        raise Http404 from None


def resident_search(*, user: User, kana: str, birth_date: date | None = None) -> QuerySet[Resident]:
    """Kana prefix (family name, or family + given name) and optional date of birth."""
    key = normalize_kana(kana)
    residents = residents_for(user)
    if key:
        residents = residents.filter(search_kana__startswith=key)
    if birth_date:
        residents = residents.filter(birth_date=birth_date)
    if not key and not birth_date:
        return Resident.objects.none()
    return residents.order_by("search_kana", "birth_date")[:SEARCH_LIMIT]


def resident_find_by_my_number(*, user: User, my_number: str) -> Resident | None:
    """Exact match through the blind index; `my_number` must already be normalised."""
    return residents_for(user).filter(my_number_index=my_number_index(my_number)).first()


def resident_detail(*, user: User, resident_id: uuid.UUID) -> Resident:
    """The resident page: cards newest first with their certificates and PIN states."""
    residents = (
        residents_for(user)
        .select_related("office", "legal_representative")
        .prefetch_related(
            Prefetch(
                "cards",
                queryset=Card.objects.order_by("-applied_on", "-created_at").prefetch_related(
                    Prefetch(
                        "certificates", queryset=Certificate.objects.order_by("kind", "-issued_on")
                    ),
                    Prefetch("pin_states", queryset=PinState.objects.order_by("kind")),
                ),
            )
        )
    )
    try:
        return residents.get(pk=resident_id)
    except Resident.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class HistoryEntry:
    pgh_created_at: datetime
    label: str
    state_label: str


_EVENT_LABELS = {"insert": "カードの記録を作成", "update": "カードの記録を更新"}


def resident_history(*, resident: Resident, limit: int = 50) -> list[HistoryEntry]:
    """Card changes as the database triggers recorded them (django-pghistory), newest first."""
    card_event = apps.get_model("cards", "CardEvent")
    events = card_event.objects.filter(resident_id=resident.pk).order_by("-pgh_created_at")[:limit]
    return [
        HistoryEntry(
            pgh_created_at=event.pgh_created_at,
            label=_EVENT_LABELS.get(event.pgh_label, event.pgh_label),
            state_label=CardState(event.state).label,
        )
        for event in events
    ]
