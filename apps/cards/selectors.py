"""Reads of the cards app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps

from apps.cards.rules import CardState
from apps.residents.models import Resident


@dataclass(frozen=True)
class HistoryEntry:
    pgh_created_at: datetime
    label: str
    state_label: str


_EVENT_LABELS = {"insert": "カードの記録を作成", "update": "カードの記録を更新"}


def card_history(*, resident: Resident, limit: int = 50) -> list[HistoryEntry]:
    """A resident's card changes as the database triggers recorded them (django-pghistory),
    newest first. The caller has already scoped the resident (residents_for)."""
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
