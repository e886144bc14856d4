"""Counter procedures in a real browser (R-REI-1…3 at the counter): a clerk takes a reissue after
loss with the police report number, sees the fee of 1,000 yen, records the payment and
downloads the receipt PDF, which holds the amount."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from apps.applications.models import Application
from apps.applications.rules import ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.fees.models import Payment
from apps.fees.services import fee_schedule_seed_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reissue_after_loss_fee_payment_and_receipt_pdf(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: Any,
    make_resident: Any,
    make_card: Any,
    office_a: Any,
    tmp_path: Path,
) -> None:
    """R-REI-1 (police number), R-REI table (1,000 yen with certificates), gapless receipt."""
    fee_schedule_seed_default()  # transactional tests empty the tables the migration filled
    resident = make_resident(office_a)
    old_card = make_card(resident)
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/residents/{resident.pk}/")

    page.get_by_role("link", name="再交付申請").click()
    page.wait_for_selector("h1:has-text('再交付申請')")
    # The reason's radio group has the focus; the police number appears for a loss.
    page.get_by_label("紛失", exact=True).check()
    police = page.get_by_label("遺失届・盗難届の受理番号")
    # expect() waits for the form's script: a bare is_visible() races it on a loaded machine.
    expect(police).to_be_visible()
    expect(page.get_by_label("罹災証明書の番号")).to_be_hidden()
    page.get_by_label("運転免許証").check()
    # The fee is shown before anything is submitted (htmx preview from the schedule).
    page.wait_for_selector("#fee-preview [data-fee-amount='1000']")
    assert "1,000円" in page.locator("#fee-preview").inner_text()
    police.fill("第2026-1234号")
    police.press("Enter")  # Enter submits

    page.wait_for_selector("[data-application-state='received']")
    assert page.locator("#fee .fee-amount").inner_text() == "1,000円"
    page.get_by_role("button", name="1,000円を領収する").click()
    page.wait_for_selector("[data-receipt-number='1']")
    assert "令和" in page.locator("[data-receipt-number]").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="領収書（PDF）").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "領収書" in text
    assert "1,000" in text
    assert "第000001号" in text

    application = Application.objects.get(resident=resident)
    assert application.state == ApplicationState.ORDERED
    assert application.police_report_no == "第2026-1234号"
    assert Payment.objects.get().amount_yen == 1000
    assert Card.objects.get(pk=old_card.pk).state == CardState.LOST
    assert application.new_card_id is not None
    assert Card.objects.get(pk=application.new_card_id).state == CardState.ORDERED
