"""Reads of the cards app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.utils import timezone

from apps.accounts.actors import actor_labels
from apps.cards.rules import CardState
from apps.residents.models import Resident


@dataclass(frozen=True)
class HistoryEntry:
    on: date  # the business date of the event (the card's own date for it)
    label: str
    state_label: str
    actor: str  # the member of staff, or the job, that did it
    pgh_created_at: datetime  # when the row was written (a loader may write old events today)


# What a move into each state is called on the resident's page.
_MOVE_LABELS = {
    CardState.ORDERED: "カードの申請（J-LISへ発注）",
    CardState.ARRIVED: "カードが到着",
    CardState.ACTIVE: "カードを交付",
    CardState.SUSPENDED: "一時停止",
    CardState.EXPIRED: "有効期限切れ",
    CardState.VOID: "廃止",
    CardState.RETURNED: "返納",
    CardState.LOST: "紛失の届出",
    CardState.DESTROYED: "未受領のため廃棄",
}


def _business_date(event: Any, state: CardState) -> date:
    """The day the event happened at the counter (or at J-LIS), from the card's own dates;
    the day the row was written only when the card has no date for it (a suspension)."""
    by_state = {
        CardState.ORDERED: event.applied_on,
        CardState.ARRIVED: event.arrived_on,
        CardState.ACTIVE: event.handed_over_on,
        CardState.EXPIRED: event.ended_on,
        CardState.VOID: event.ended_on,
        CardState.RETURNED: event.ended_on,
        CardState.LOST: event.ended_on,
        CardState.DESTROYED: event.ended_on,
    }
    day = by_state.get(state)
    return day if day is not None else timezone.localdate(event.pgh_created_at)


def card_history(*, resident: Resident, limit: int = 50) -> list[HistoryEntry]:
    """A resident's card events as the database triggers recorded them (django-pghistory):
    each change of state with its business date and who did it, newest first. The caller
    has already scoped the resident (residents_for)."""
    card_event = apps.get_model("cards", "CardEvent")
    events = list(
        card_event.objects.filter(resident_id=resident.pk)
        .select_related("pgh_context")
        .order_by("pgh_obj_id", "pgh_id")
    )
    moves = []
    previous: dict[Any, str] = {}
    for event in events:
        before = previous.get(event.pgh_obj_id)
        previous[event.pgh_obj_id] = event.state
        if event.pgh_label != "insert" and before == event.state:
            continue  # a change of the record, not an event at the counter
        moves.append(event)
    contexts = [event.pgh_context.metadata if event.pgh_context else None for event in moves]
    entries = [
        HistoryEntry(
            on=_business_date(event, CardState(event.state)),
            label=_MOVE_LABELS[CardState(event.state)],
            state_label=CardState(event.state).label,
            actor=actor,
            pgh_created_at=event.pgh_created_at,
        )
        for event, actor in zip(moves, actor_labels(contexts), strict=True)
    ]
    entries.extend(_endorsement_history(resident=resident))
    entries.sort(key=lambda entry: (entry.on, entry.pgh_created_at), reverse=True)
    return entries[:limit]


def _endorsement_history(*, resident: Resident) -> list[HistoryEntry]:
    """Issue 10: each entry written in the endorsement field (R-CHG-1…4), with the
    member of staff the trigger's context names; the card's state does not change with it."""
    event_model = apps.get_model("cards", "EndorsementEvent")
    events = list(
        event_model.objects.filter(card__resident_id=resident.pk, pgh_label="insert")
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    contexts = [event.pgh_context.metadata if event.pgh_context else None for event in events]
    return [
        HistoryEntry(
            on=event.written_on,
            label=f"追記欄に記載：{event.text}",
            # The field is written only on a card in use (the change services refuse others).
            state_label=CardState.ACTIVE.label,
            actor=actor,
            pgh_created_at=event.pgh_created_at,
        )
        for event, actor in zip(events, actor_labels(contexts), strict=True)
    ]
