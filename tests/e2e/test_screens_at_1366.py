"""The supervisor's screens at a counter PC's 1366×768, in Chromium: the menu fits on one line
with no entry broken mid-word (通知書照/会, 領/収, 日/計 before), its groups open from the
keyboard, dates in tables stay on one line, and the error pages are the site's own.
Screenshots of each go to MG_SCREENSHOTS when it is set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.rules import ApplicationKind
from apps.fees.rules import ReissueReason
from apps.fees.services import daily_close_record, fee_schedule_seed_default
from tests.applications.helpers import receive
from tests.e2e.conftest import COUNTER_SCREEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Shot = Callable[[Any, str], Path]

# An inline element's line boxes: more than one means its text wrapped onto a second line.
_WRAPPED = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.getClientRects().length > 1)
  .map((el) => el.textContent.trim())"""
_MENU = "nav.mainmenu > a, nav.mainmenu > details > summary"
_ROWS = """(selector) => new Set([...document.querySelectorAll(selector)]
  .map((el) => Math.round(el.getBoundingClientRect().top))).size"""


def test_the_supervisors_menu_and_tables_fit_the_counter_screen(
    page: Any,
    login: Any,
    live_server: Any,
    office_a: Office,
    counter_a: Counter,
    clerk_a: User,
    make_resident: Callable[..., Any],
    make_card: Callable[..., Any],
    screenshot: Shot,
) -> None:
    fee_schedule_seed_default()
    page.set_viewport_size(COUNTER_SCREEN)
    supervisor = User.objects.create_user(
        username="supervisor_a",
        password="test-pass-123456",
        role=Role.SUPERVISOR,
        office=office_a,
        last_name="監督",
        first_name="和子",
    )
    for n in range(2):
        Counter.objects.create(office=office_a, code=str(n + 2), name=f"{n + 2}番窓口")
    holder = make_resident(office_a)
    make_card(holder)
    receive(
        clerk_a,
        holder,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.NOT_HOLDER_FAULT,
        waiver_reason="ICチップの読取不良（J-LISの不良品）",
    )
    daily_close_record(
        acting_user=clerk_a,
        counter=counter_a,
        business_date=timezone.localdate(),
        counted_cash_yen=0,
    )

    login(page, supervisor.username)
    page.wait_for_selector("h1:has-text('監督者のホーム')")  # the supervisor's own home
    assert page.evaluate(_WRAPPED, "nav.mainmenu a, nav.mainmenu summary, .topbar .who span") == []
    assert page.evaluate(_ROWS, _MENU) == 1  # the whole menu on one line
    assert page.evaluate(_WRAPPED, "td .date") == []
    screenshot(page, "supervisor-home")

    # A group opens from the keyboard and shows its entries; Escape closes it.
    page.locator("summary:has-text('手数料')").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("link", name="日計").is_visible()
    screenshot(page, "supervisor-menu-open")
    page.keyboard.press("Escape")
    assert not page.get_by_role("link", name="日計").is_visible()

    page.goto(f"{live_server.url}/fees/close/")
    page.wait_for_selector("[data-close-counter]")
    assert page.evaluate(_WRAPPED, "td .date") == []
    screenshot(page, "supervisor-close")

    page.goto(f"{live_server.url}/residents/{holder.pk}/")
    page.wait_for_selector("[data-card-history]")
    assert page.evaluate(_WRAPPED, "td .date") == []
    screenshot(page, "resident-history")

    page.goto(f"{live_server.url}/no-such-page/")
    assert "ページが見つかりません" in page.locator("h1").inner_text()
    screenshot(page, "error-404")
    page.goto(f"{live_server.url}/home/admin/")
    assert "この画面は表示できません" in page.locator("h1").inner_text()
    screenshot(page, "error-403")
