"""The resident's 履歴 shows the business date of each event and who did it: a card handed
over in 2020 reads "2020年6月2日 … 交付", not the day a loader wrote the rows, and each
event names the member of staff (or the job) behind it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.cards.rules import CardState
from apps.cards.selectors import card_history
from apps.cards.services import card_arrive, card_change_state, card_hand_over, card_order
from apps.core.service import SystemActor
from apps.core.wareki import format_both

LOADER = SystemActor("manage.py seed_demo")


@pytest.mark.django_db
def test_history_shows_business_dates_and_who_did_it(
    clerk_a: User,
    office_a: Office,
    make_resident: Callable[..., Any],
    client_for: Callable[[User | None], Client],
) -> None:
    clerk_a.first_name = "一郎"
    clerk_a.save(update_fields=["first_name"])
    resident = make_resident(office_a)
    # An old card, written today by the demo loader with the card's own dates.
    card = card_order(acting_user=LOADER, resident=resident, applied_on=date(2020, 4, 20))
    card = card_arrive(
        acting_user=LOADER, card=card, issued_on=date(2020, 5, 15), arrived_on=date(2020, 5, 22)
    )
    card = card_hand_over(acting_user=LOADER, card=card, on=date(2020, 6, 2))
    # Today at the counter: the clerk suspends it after a loss report.
    card_change_state(
        acting_user=clerk_a,
        card=card,
        to_state=CardState.SUSPENDED,
        on=timezone.localdate(),
        reason="紛失の届出",
    )

    history = card_history(resident=resident)
    assert [(entry.on, entry.label, entry.actor) for entry in history] == [
        (timezone.localdate(), "一時停止", "窓口 一郎"),
        (date(2020, 6, 2), "カードを交付", "デモデータの読込"),
        (date(2020, 5, 22), "カードが到着", "デモデータの読込"),
        (date(2020, 4, 20), "カードの申請（J-LISへ発注）", "デモデータの読込"),
    ]

    page = client_for(clerk_a).get(reverse("residents:detail", args=[resident.pk])).content
    table = page.decode().split("data-card-history", 1)[1]
    assert format_both(date(2020, 6, 2)) in table
    assert format_both(date(2020, 4, 20)) in table
    assert "窓口 一郎" in table
    assert "デモデータの読込" in table
    # Today's date appears once: for today's suspension, not for the loader's rows.
    assert table.count(format_both(timezone.localdate())) == 1
