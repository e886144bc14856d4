"""A PIN lock release by an ordinary proxy across its two visits, in a real browser
(R-PIN-1, R-PIN-2, R-PIN-3): the locked PIN is preselected from the card read's counters, the
inquiry-and-answer letter is generated as a PDF for the holder's registered address, the
release is refused before the answer, and done after the letter's code ties the visits."""

from __future__ import annotations

import io
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from apps.applications.models import Application, CardProcedure
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.certificates.models import PinState
from apps.certificates.rules import PinKind
from apps.certificates.services import pin_state_observe, pin_states_initialize
from apps.fees.services import fee_schedule_seed_default
from tests.actors import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lock_release_by_an_ordinary_proxy_across_two_visits(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: Any,
    make_resident: Any,
    make_card: Any,
    office_a: Any,
    screenshot: Any,
) -> None:
    fee_schedule_seed_default()
    resident = make_resident(office_a, postal_code="053-0001")
    card = make_card(resident)
    pin_states_initialize(acting_user=FIXTURES, card=card)
    pin_state_observe(acting_user=FIXTURES, card=card, kind=PinKind.AUTH, tries_left=0)
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/residents/{resident.pk}/")

    # First visit: the proxy asks; the locked AUTH PIN is already ticked.
    page.get_by_role("link", name="暗証番号のロック解除・再設定").click()
    expect(page.locator("h1")).to_have_text("暗証番号のロック解除・再設定")
    expect(page.get_by_label("利用者証明用電子証明書暗証番号", exact=True)).to_be_checked()
    expect(page.locator("[data-store-note]")).to_contain_text("署名用電子証明書暗証番号のみ")
    assert page.locator("input[type=password]").count() == 0  # R-PIN-3
    page.get_by_label("カードの提示を受けた").check()
    page.get_by_label("任意代理人").check()
    name = page.get_by_label("代理人の氏名")
    expect(name).to_be_visible()
    name.fill("佐藤 次郎")
    page.get_by_label("運転免許証").check()
    page.get_by_label("委任状").check()
    page.get_by_role("button", name="受け付ける").click()

    expect(page.locator("[data-application-state]")).to_have_attribute(
        "data-application-state", "received"
    )
    expect(page.locator("[data-answer]")).to_have_text("回答待ち")
    code = page.locator("[data-letter-code]").inner_text()
    application = Application.objects.get(resident=resident, kind=ApplicationKind.LOCK_RELEASE)
    procedure = CardProcedure.objects.get(application=application)
    assert code.replace("-", "") == procedure.letter_code

    # The letter, to post to the registered address: a PDF carrying the code, no PIN.
    href = page.locator("[data-letter-pdf]").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert code in text
    screenshot(page, "lock-release-first-visit")

    # Before the answer: the release is refused and nothing is unlocked.
    page.get_by_role("button", name="ロック解除を完了する").click()
    expect(page.locator(".messages")).to_contain_text("回答が届くまで")
    assert PinState.objects.get(card=card, kind=PinKind.AUTH).tries_left == 0

    # Second visit: the proxy brings the answered letter back; its code ties the visits.
    page.get_by_label("照会番号（照会書兼回答書に印字）").fill(code.lower())
    page.get_by_label("運転免許証").check()
    page.get_by_label("委任状").check()
    page.get_by_role("button", name="回答書を確認した").click()
    expect(page.locator("[data-answer]")).to_contain_text("受領済")
    page.get_by_role("button", name="ロック解除を完了する").click()
    expect(page.locator("[data-application-state]")).to_have_attribute(
        "data-application-state", "done"
    )
    expect(page.locator("[data-released]")).to_contain_text("済")
    assert PinState.objects.get(card=card, kind=PinKind.AUTH).tries_left == 3
    application.refresh_from_db()
    assert application.state == ApplicationState.DONE
    screenshot(page, "lock-release-done")
