"""Reads of applications, scoped through residents_for (out of scope = 404)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db.models import F, QuerySet
from django.http import Http404

from apps.accounts import policy
from apps.accounts.actors import actor_labels
from apps.accounts.models import User
from apps.applications.models import Application, ArrivalImport
from apps.applications.rules import ApplicationState, age_band, days_waiting
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.core.paging import Keyset, KeysetPage
from apps.residents.selectors import residents_for


def applications_for(user: User) -> QuerySet[Application]:
    return Application.objects.filter(resident__in=residents_for(user))


def application_get(*, user: User, application_id: uuid.UUID) -> Application:
    try:
        return (
            applications_for(user)
            .select_related(
                "resident",
                "office",
                "counter",
                "received_by",
                "old_card",
                "new_card",
                "payment",
                "payment__void",
                "waiver",
                "waiver__approved_by",
                "fee_schedule",
                "handed_over_by",
                # Issue 10: what a card change wrote.
                "endorsement",
                "continued_use",
                "expiry_change",
            )
            .get(pk=application_id)
        )
    except Application.DoesNotExist:
        raise Http404 from None


def recent_applications_of(
    *, user: User, resident_id: uuid.UUID, limit: int = 10
) -> list[Application]:
    """The resident's latest applications, open or finished, newest first (the 手続 area)."""
    return list(
        applications_for(user)
        .filter(resident_id=resident_id)
        .order_by("-received_at")
        .select_related("new_card")[:limit]
    )


@dataclass(frozen=True)
class ApplicationHistoryEntry:
    at: datetime
    label: str
    state_label: str
    steps: tuple[str, ...]
    actor: str = "—"  # the member of staff, or the job, behind the step


_STEP_LABELS = {
    "application_receive": "受付",
    "application_order": "発注",
    "application_pay": "手数料の領収",
    "application_payment_void": "領収の取消",
    "application_waiver_approve": "免除の承認",
    "application_hand_over": "交付",
    "application_cancel": "取下げ",
    "arrivals_import": "到着データの取込",
    # Issue 10: the card changes and express posting.
    "address_change_receive": "住所変更の追記",
    "name_change_receive": "氏名変更の追記",
    "former_surname_receive": "旧氏併記",
    "continued_use_receive": "継続利用",
    "expiry_change_receive": "有効期限の変更",
    "application_express_posted": "発送の記録",
    "application_express_delivered": "配達の記録",
    "application_express_returned": "返戻の記録",
}


def application_history(*, application: Application) -> list[ApplicationHistoryEntry]:
    """The application's rows as the pghistory triggers wrote them, oldest first."""
    event_model = apps.get_model("applications", "ApplicationEvent")
    events = (
        event_model.objects.filter(pgh_obj_id=application.pk)
        .select_related("pgh_context")
        .order_by("pgh_created_at", "pgh_id")
    )
    events = list(events)
    contexts = [event.pgh_context.metadata if event.pgh_context else {} for event in events]
    entries = []
    for event, metadata, actor in zip(events, contexts, actor_labels(contexts), strict=True):
        steps = tuple(label for key, label in _STEP_LABELS.items() if metadata.get(key))
        entries.append(
            ApplicationHistoryEntry(
                at=event.pgh_created_at,
                label="作成" if event.pgh_label == "insert" else "更新",
                state_label=ApplicationState(event.state).label,
                steps=steps,
                actor=actor,
            )
        )
    return entries


@dataclass(frozen=True)
class WaitingCard:
    card: Card
    application: Application | None
    days: int
    band: str


@dataclass(frozen=True)
class WaitingCards:
    """One page of an office's stock of uncollected cards, and its neighbours."""

    rows: list[WaitingCard]
    page: KeysetPage[Card]


UNCOLLECTED_PAGE_SIZE = 100
# Oldest first, then the card's id: the card_waiting index (Card.Meta), one range per page.
_WAITING = Keyset(Card, ("arrived_on", "id"))


_WAITING_COLUMNS = (
    "id",
    "office_id",
    "state",
    "arrived_on",
    "expires_on",
    "resident__id",
    "resident__family_name",
    "resident__given_name",
    "application__id",
    "application__new_card_id",
)


def cards_waiting_for(user: User) -> QuerySet[Card]:
    """The office's stock: cards that arrived and wait for their holder (R-ISS-1).

    Keyed by the card's office (Card.office), and still only residents the user may see,
    so a card can never show a name from outside ``residents_for``.
    """
    waiting = policy.restrict(Card.objects.filter(state=CardState.ARRIVED), user)
    return waiting.filter(resident__office_id=F("office_id"))


def uncollected_cards(
    *, user: User, today: date, params: Mapping[str, Any], size: int = UNCOLLECTED_PAGE_SIZE
) -> WaitingCards:
    """A page of the cards that arrived but were not collected, oldest first (R-ISS-1).

    ``params`` is the query string (``after``/``before`` cursors, ``page=last``; see
    apps.core.paging): the page is one range of the office's stock index, and nothing counts
    the stock.
    """
    page = _WAITING.page(
        # What the list shows: 100 rows of three models' 80 columns would be mostly unread.
        cards_waiting_for(user).select_related("resident", "application").only(*_WAITING_COLUMNS),
        params=params,
        size=size,
    )
    rows = []
    for card in page:
        days = days_waiting(arrived_on=card.arrived_on or today, today=today)
        application = getattr(card, "application", None)
        rows.append(WaitingCard(card=card, application=application, days=days, band=age_band(days)))
    return WaitingCards(rows=rows, page=page)


def arrival_imports_for(user: User) -> QuerySet[ArrivalImport]:
    return policy.restrict(ArrivalImport.objects.select_related("imported_by"), user)


def arrival_import_get(*, user: User, import_id: uuid.UUID) -> ArrivalImport:
    """One import of the user's office; another office's is not found."""
    try:
        return arrival_imports_for(user).get(pk=import_id)
    except ArrivalImport.DoesNotExist:
        raise Http404 from None
