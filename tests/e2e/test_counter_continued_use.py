"""Continued use after moving in, in a real browser (R-CHG-4): the move-in recorded on the
first visit puts the holder on the clerks' list of deadlines; from the list the clerk opens
the registration, which writes the new address in the endorsement field (R-CRT-4: SIGNING
revoked)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.applications.rules import IdentityDocument
from apps.applications.services_changes import Applicant, ContinuedUseInput, continued_use_receive
from apps.cards.models import ContinuedUse
from apps.fees.services import fee_schedule_seed_default
from tests.e2e.conftest import open_menu_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r_chg_4_from_the_deadline_list_to_the_registration(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: Any,
    make_resident: Any,
    make_card: Any,
    office_a: Any,
) -> None:
    fee_schedule_seed_default()  # transactional tests empty the tables the migration filled
    today = timezone.localdate()
    resident = make_resident(office_a)
    card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    continued_use_receive(
        acting_user=clerk_a,
        resident=resident,
        data=ContinuedUseInput(
            applicant=Applicant(documents=frozenset({IdentityDocument.DRIVERS_LICENSE})),
            planned_move_out_on=today - timedelta(days=84),
            moved_in_on=today - timedelta(days=82),
            move_in_notice_on=today - timedelta(days=80),
            address="みどり市美園町4丁目4番",
            register_now=False,
        ),
        on=today - timedelta(days=80),
    )
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/")
    open_menu_entry(page, "カード・通知書", "継続利用の期限")
    due = page.locator("[data-continued-use-due]")
    expect(due).to_contain_text(resident.full_name)
    due.get_by_role("link", name=resident.full_name).click()

    expect(page.locator("[data-continued-use-recorded]")).to_contain_text("手続の期限")
    register = page.get_by_label("継続利用の手続を今回行う（カードを持参し、暗証番号を入力した）")
    expect(register).to_be_focused()
    expect(register).to_be_checked()
    page.get_by_label("運転免許証").check()
    page.get_by_role("button", name="受け付ける").click()

    expect(page.locator("[data-continued-use]")).to_contain_text("継続利用の手続")
    expect(page.locator("[data-endorsement]")).to_contain_text(
        "転入（継続利用） みどり市美園町4丁目4番"
    )
    assert ContinuedUse.objects.get(card=card).registered_on == today
