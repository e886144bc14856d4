"""Taking a fee as a clerk would, in a real Chromium at a counter screen's 1366×768: Enter on
the application page takes nothing, the confirmation shows amount and method, a double click
on its button takes one payment with one receipt number; then the supervisor voids it, and
the counter closes its day. Screenshots of each screen go to MG_SCREENSHOTS when it is set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.fees.models import DailyClose, Payment, ReceiptCounter
from apps.fees.rules import ReissueReason
from apps.fees.services import fee_schedule_seed_default
from tests.applications.helpers import receive
from tests.e2e.conftest import COUNTER_SCREEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Shot = Callable[[Any, str], Path]


def test_a_double_click_on_the_pay_button_takes_one_payment(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: User,
    office_a: Any,
    make_resident: Any,
    make_card: Any,
    screenshot: Shot,
) -> None:
    fee_schedule_seed_default()
    page.set_viewport_size(COUNTER_SCREEN)
    resident = make_resident(office_a)
    make_card(resident)
    application = receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第2026-77号",
    )
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/applications/{application.pk}/")
    # One more Enter on the application page takes nothing (no button has the focus).
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert Payment.objects.count() == 0
    screenshot(page, "application-before-payment")

    page.get_by_label("支払方法").select_option("cash")
    page.get_by_role("button", name="領収の確認へ").click()
    page.wait_for_selector("[data-confirm-amount='1000']")
    assert "現金" in page.locator("[data-confirm-method]").inner_text()
    # The focus is on "やめる": Enter here goes back without paying.
    assert page.evaluate("document.activeElement.textContent.trim()") == "やめる"
    screenshot(page, "pay-confirmation")

    page.get_by_role("button", name="1,000円を現金で領収する").dblclick()
    page.wait_for_selector("[data-receipt-number='1']")
    page.wait_for_timeout(500)  # a second request, if one had gone out, would land by now
    assert Payment.objects.count() == 1
    assert ReceiptCounter.objects.get().last_number == 1
    assert Application.objects.get(pk=application.pk).state == ApplicationState.ORDERED
    screenshot(page, "application-paid")


def test_the_supervisor_voids_and_the_counter_closes(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: User,
    office_a: Any,
    make_resident: Any,
    make_card: Any,
    screenshot: Shot,
) -> None:
    from apps.applications.services import application_pay

    fee_schedule_seed_default()
    page.set_viewport_size(COUNTER_SCREEN)
    User.objects.create_user(
        username="supervisor_a",
        password="test-pass-123456",
        role=Role.SUPERVISOR,
        office=office_a,
        last_name="監督",
        first_name="花子",
    )
    resident = make_resident(office_a)
    make_card(resident)
    application = receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.STOLEN,
        police_report_no="第2026-78号",
    )
    payment = application_pay(
        acting_user=clerk_a, application=application, idempotency_key="e2e"
    ).payment

    login(page, "supervisor_a")
    page.goto(f"{live_server.url}/applications/payments/{payment.pk}/void/")
    page.wait_for_selector("h1:has-text('領収の取消')")
    screenshot(page, "void-dialog")
    page.get_by_label("申請を手数料の領収待ちに戻す", exact=False).check()
    page.get_by_label("取消の理由").fill("支払方法の記録誤り（キャッシュレスで受領）")
    page.get_by_role("button", name="取り消す").click()
    page.wait_for_selector("[data-application-state='received']")
    assert Payment.objects.get().voided
    screenshot(page, "application-after-void")

    page.goto(f"{live_server.url}/fees/close/")
    page.wait_for_selector("[data-close-counter]")
    screenshot(page, "close-before")
    page.get_by_label("現金の実査額（円）").fill("0")
    page.get_by_role("button", name="を締める").click()
    page.wait_for_selector("[data-closed-now]")
    closed = DailyClose.objects.get()
    assert (closed.expected_cash_yen, closed.voided_count, closed.business_date) == (
        0,
        1,
        timezone.localdate(),
    )
    screenshot(page, "close-after")
