"""Taking a fee as a clerk would, in a real Chromium at a counter screen's 1366×768: Enter on
the application page takes nothing, the confirmation shows amount and method, a double click
on its button takes one payment with one receipt number; then the supervisor voids it, and
the counter closes its day. Screenshots of each screen go to MG_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
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

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 768}


def _shot(page: Any, tmp_path: Path, name: str) -> Path:
    target = Path(os.environ.get("MG_SCREENSHOTS") or tmp_path) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    return target


def test_a_double_click_on_the_pay_button_takes_one_payment(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: User,
    office_a: Any,
    make_resident: Any,
    make_card: Any,
    tmp_path: Path,
) -> None:
    fee_schedule_seed_default()
    page.set_viewport_size(SCREEN)
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
    _shot(page, tmp_path, "application-before-payment")

    page.get_by_label("支払方法").select_option("cash")
    page.get_by_role("button", name="領収の確認へ").click()
    page.wait_for_selector("[data-confirm-amount='1000']")
    assert "現金" in page.locator("[data-confirm-method]").inner_text()
    # The focus is on "やめる": Enter here goes back without paying.
    assert page.evaluate("document.activeElement.textContent.trim()") == "やめる"
    _shot(page, tmp_path, "pay-confirmation")

    page.get_by_role("button", name="1,000円を現金で領収する").dblclick()
    page.wait_for_selector("[data-receipt-number='1']")
    page.wait_for_timeout(500)  # a second request, if one had gone out, would land by now
    assert Payment.objects.count() == 1
    assert ReceiptCounter.objects.get().last_number == 1
    assert Application.objects.get(pk=application.pk).state == ApplicationState.ORDERED
    _shot(page, tmp_path, "application-paid")


def test_the_supervisor_voids_and_the_counter_closes(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: User,
    office_a: Any,
    make_resident: Any,
    make_card: Any,
    tmp_path: Path,
) -> None:
    from apps.applications.services import application_pay

    fee_schedule_seed_default()
    page.set_viewport_size(SCREEN)
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
    _shot(page, tmp_path, "void-dialog")
    page.get_by_label("申請を手数料の領収待ちに戻す", exact=False).check()
    page.get_by_label("取消の理由").fill("支払方法の記録誤り（キャッシュレスで受領）")
    page.get_by_role("button", name="取り消す").click()
    page.wait_for_selector("[data-application-state='received']")
    assert Payment.objects.get().voided
    _shot(page, tmp_path, "application-after-void")

    page.goto(f"{live_server.url}/fees/close/")
    page.wait_for_selector("[data-close-counter]")
    _shot(page, tmp_path, "close-before")
    page.get_by_label("現金の実査額（円）").fill("0")
    page.get_by_role("button", name="を締める").click()
    page.wait_for_selector("[data-closed-now]")
    closed = DailyClose.objects.get()
    assert (closed.expected_cash_yen, closed.voided_count, closed.business_date) == (
        0,
        1,
        timezone.localdate(),
    )
    _shot(page, tmp_path, "close-after")
