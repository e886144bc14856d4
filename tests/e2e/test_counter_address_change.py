"""An address change at the counter in a real browser (R-CHG-1, R-CRT-4): the clerk writes the
new address from the resident page with the keyboard; the endorsement is shown, the SIGNING
certificate is revoked (AUTH stays) and the resident's history names the clerk."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from apps.cards.models import Endorsement
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from apps.fees.services import fee_schedule_seed_default
from tests.actors import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r_chg_1_address_change_endorsed_signing_revoked_history_names_clerk(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: Any,
    make_resident: Any,
    make_card: Any,
    office_a: Any,
    screenshot: Any,
) -> None:
    fee_schedule_seed_default()  # transactional tests empty the tables the migration filled
    resident = make_resident(office_a)
    card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    for kind, serial in ((CertificateKind.SIGNING, "5151"), (CertificateKind.AUTH, "a1a1")):
        certificate_issue(
            acting_user=FIXTURES, card=card, kind=kind, serial=serial, issued_on=date(2024, 5, 1)
        )
    login(page, "clerk_a")
    page.goto(f"{live_server.url}/residents/{resident.pk}/")

    page.get_by_role("link", name="住所変更（追記）").click()
    page.wait_for_selector("h1:has-text('住所変更（追記）')")
    address = page.get_by_label("新しい住所")
    expect(address).to_be_focused()  # keyboard-first: the first field has the focus
    expect(page.locator("[data-endorsement-room]")).to_contain_text("残り4件")
    page.get_by_label("運転免許証").check()
    address.fill("みどり市本町2丁目3番4号")
    screenshot(page, "address-change-form")
    address.press("Enter")  # Enter submits

    expect(page.locator("[data-application-state='done']")).to_be_visible()
    expect(page.locator("[data-endorsement]")).to_contain_text("住所変更 みどり市本町2丁目3番4号")
    screenshot(page, "address-change-done")

    page.goto(f"{live_server.url}/residents/{resident.pk}/")
    endorsements = page.locator("[data-endorsements]")
    expect(endorsements).to_contain_text("令和")
    expect(endorsements).to_contain_text("住所変更 みどり市本町2丁目3番4号")
    # The certificate rows (the PIN table's "署名用電子証明書暗証番号" is another cell).
    signing = page.locator("tr", has=page.get_by_role("cell", name="署名用電子証明書", exact=True))
    expect(signing).to_contain_text("失効")
    auth = page.locator(
        "tr", has=page.get_by_role("cell", name="利用者証明用電子証明書", exact=True)
    )
    expect(auth).to_contain_text("有効")
    history = page.locator("[data-card-history] tr", has_text="追記欄に記載：令和")
    expect(history).to_contain_text("窓口")  # the clerk's name (clerk_a is 窓口)
    screenshot(page, "resident-after-address-change")

    entry = Endorsement.objects.get(card=card)
    assert entry.written_by == clerk_a
    states = {c.kind: c.state for c in Certificate.objects.filter(card=card)}
    assert states == {
        CertificateKind.SIGNING: CertificateState.REVOKED,
        CertificateKind.AUTH: CertificateState.ACTIVE,
    }
