"""A suspension lifted at the counter after a card read, in a real browser over the real
card-read chain (R-SUS-1, R-SUS-2): the call centre's record suspends the card; at the
counter the simulated card is inserted into the PC/SC reader, the reader agent signs the read
to the server, the lifting screen sees it, and the clerk lifts the suspension after the
identity check. Before the read the screen waits and nothing can be lifted.

Skips locally when pcscd/vpcd, Chromium or the agent's venv is missing; fails under CI=true.
Run under flock /tmp/mg-pcsc.lock (one global vpcd port)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from apps.applications.models import Application, CardProcedure
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState, SuspensionReason
from apps.cards.suspensions import FeedRecord, suspension_record_receive
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue, pin_states_initialize
from apps.counters.models import CardRead, Device
from apps.counters.services import device_approve
from apps.fees.services import fee_schedule_seed_default
from tests.actors import FIXTURES
from tests.agent.harness import (
    VPCD_PORT,
    Simulator,
    agent_enroll,
    agent_installed,
    agent_run,
    pcscd_with_vpcd,
    running,
    vpcd_reader_name,
)
from tests.services import require

pytestmark = [pytest.mark.pcsc, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIAL = "5e2e51"  # the simulated card's AUTH certificate serial


def test_a_suspension_lifted_at_the_counter_after_a_card_read(
    page: Any,
    login: Any,
    live_server: Any,
    clerk_a: Any,
    admin_user: Any,
    make_resident: Any,
    make_card: Any,
    office_a: Any,
    tmp_path: Path,
    screenshot: Any,
) -> None:
    require(pcscd_with_vpcd(), f"pcscd with vsmartcard-vpcd (port {VPCD_PORT})")
    require(agent_installed(), "the reader agent's venv (make agent-install) with pyscard")
    fee_schedule_seed_default()
    resident = make_resident(office_a, family_name="窓口", given_name="解除")
    card: Card = make_card(resident, applied_on=date(2024, 4, 20), issued_on=date(2024, 5, 15))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial=SERIAL,
        issued_on=date(2024, 5, 15),
    )
    pin_states_initialize(acting_user=FIXTURES, card=card)
    suspension_record_receive(
        acting_user=FIXTURES,
        record=FeedRecord(
            record_id="CC-E2E-1",
            resident_code=resident.resident_code,
            reported_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            reason=SuspensionReason.LOST,
        ),
        source="api",
    )
    card.refresh_from_db()
    assert card.state == CardState.SUSPENDED

    home = tmp_path / "agent"
    fingerprint = agent_enroll(server=live_server.url, name="e2e 解除窓口PC", home=home)
    device = Device.objects.get(fingerprint=fingerprint)
    device_approve(acting_user=admin_user, device=device, counter=clerk_a.counter)
    simulator = Simulator(home=home, auth_serial=SERIAL, persona="ordinary")
    agent = agent_run(home=home, reader=vpcd_reader_name(), heartbeat=2)

    with running(agent, simulator):
        login(page, "clerk_a")
        page.goto(f"{live_server.url}/residents/{resident.pk}/")
        page.locator("[data-card-services]").get_by_role("link", name="一時停止の解除").click()
        expect(page.locator("h1")).to_have_text("一時停止の解除")
        expect(page.locator("[data-card-state]")).to_have_attribute("data-card-state", "suspended")
        expect(page.locator("[data-read-wait]")).to_be_visible()
        # Without the read the lifting is refused.
        page.get_by_label("運転免許証").check()
        page.get_by_role("button", name="一時停止を解除する").click()
        expect(page.locator("[role=alert]").first).to_be_visible()
        card.refresh_from_db()
        assert card.state == CardState.SUSPENDED

        simulator.insert()
        try:
            expect(page.locator("[data-read-ok]")).to_be_visible(timeout=30_000)
        except AssertionError:
            pytest.fail("the lifting screen never saw the read\n" + agent.output())
        screenshot(page, "suspension-lift-read")
        page.get_by_label("運転免許証").check()
        page.get_by_role("button", name="一時停止を解除する").click()
        expect(page.locator("[data-application-state]")).to_have_attribute(
            "data-application-state", "done"
        )
        expect(page.locator("#procedure")).to_contain_text("窓口のリーダーで確認済")

    card.refresh_from_db()
    assert card.state == CardState.ACTIVE
    application = Application.objects.get(resident=resident, kind=ApplicationKind.SUSPENSION_LIFT)
    assert application.state == ApplicationState.DONE
    read = CardRead.objects.get(card=card)
    assert CardProcedure.objects.get(application=application).card_read_id == read.read_id
