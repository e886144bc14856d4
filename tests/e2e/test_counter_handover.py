"""Counter procedures in a real browser (the R-ISS-1 pipeline end to end): first issue
received, the J-LIS arrivals file imported on its page, the card found in the uncollected list
and handed over with the checklist, the notification card returned (R-ISS-1, R-ISS-3, R-PIN-3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.applications.models import Application
from apps.applications.rules import ApplicationState, NotificationCardStatus
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.fees.services import fee_schedule_seed_default
from tests.custody.helpers import ready_to_hand_over
from tests.e2e.conftest import COUNTER_SCREEN, open_menu_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_issue_handover_with_the_notification_card_returned(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: Any,
    make_resident: Any,
    office_a: Any,
    celery_eager: None,
    screenshot: Any,
) -> None:
    """The arrivals import runs as a Celery task after the upload; here in-process (eager),
    as without Redis, so the page shows it done (tests/applications has the real worker)."""
    fee_schedule_seed_default()
    page.set_viewport_size(COUNTER_SCREEN)
    resident = make_resident(office_a)
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/residents/{resident.pk}/")

    page.get_by_role("link", name="新規交付申請").click()
    page.get_by_label("運転免許証").check()
    page.wait_for_selector("#fee-preview [data-fee-amount='0']")
    page.get_by_role("button", name="受け付ける").click()
    page.wait_for_selector("[data-application-state='ordered']")
    assert "手数料はかかりません" in page.locator("#fee").inner_text()

    application = Application.objects.get(resident=resident)
    today = timezone.localdate().isoformat()
    csv = f"card_id,issued_on,arrived_on\n{application.new_card_id},{today},{today}\n"
    open_menu_entry(page, "カード・通知書", "到着取込")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "jlis-arrivals.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.get_by_role("button", name="取り込む").click()
    page.wait_for_selector("[data-import-state='done']")
    assert "到着を記録 1件" in page.locator("[data-import-result]").inner_text()
    screenshot(page, "arrivals-done")

    # R-HND-1/2: the card set up and read on this counter's reader (the real reader chain is
    # tests/agent/test_e2e_handover.py); the handover screen then shows it green.
    ready_to_hand_over(clerk_a, application)
    page.get_by_role("link", name="未交付カードの一覧へ").click()
    page.get_by_role("link", name="交付へ").click()
    expect(page.locator("#handover-interlock[data-verdict='match']")).to_be_visible()
    page.wait_for_selector("h1:has-text('カードの交付')")
    assert page.locator("input[type=password]").count() == 0  # R-PIN-3: no PIN is typed here
    page.get_by_label("運転免許証").check()
    page.get_by_label("暗証番号の設定が済んだ").check()
    page.get_by_label("通知カードを返納した").check()
    page.get_by_label("交付通知書の持参がないため、追加の本人確認を行った").check()
    page.get_by_role("button", name="交付する").click()

    page.wait_for_selector("[data-application-state='handed_over']")
    assert "通知カードを返納した" in page.content()
    application.refresh_from_db()
    assert application.state == ApplicationState.HANDED_OVER
    assert application.notification_card == NotificationCardStatus.RETURNED
    assert application.new_card_id is not None
    assert Card.objects.get(pk=application.new_card_id).state == CardState.ACTIVE
