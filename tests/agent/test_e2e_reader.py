"""End to end (the card-read flow of docs/architecture.md and README's "Card reader"): pcscd
+ the simulated card + the reader agent + the server +
a browser signed in as the clerk at that counter. Inserting the simulated card makes the
resident appear on the clerk's page; the read-to-screen time is recorded (printed and in the
JUnit report as `read_to_screen_s`), and the test fails only if the panel never shows it.

Skips locally when pcscd/vpcd, Chromium or the agent's venv is missing; fails under CI=true.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue, pin_states_initialize
from apps.counters.models import CardRead, Device, DeviceState
from apps.counters.services import device_approve
from apps.residents.models import Resident
from tests.actors import FIXTURES
from tests.agent.harness import (
    CHROMIUM_ARGS,
    VPCD_PORT,
    Simulator,
    agent_enroll,
    agent_installed,
    agent_run,
    pcscd_with_vpcd,
    running,
    vpcd_reader_name,
)
from tests.auth import mfa_login
from tests.services import chromium_path, require

pytestmark = [pytest.mark.pcsc, pytest.mark.browser]

SERIAL = "5e2e01"  # the simulated card's AUTH certificate serial, recorded at issuance
# Generous: the panel normally shows the resident well within a second of the insertion.
PANEL_TIMEOUT_MS = 30_000


@pytest.mark.django_db(transaction=True)
def test_inserting_a_card_shows_the_resident_on_the_clerks_screen(
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
    clerk_a: User,
    admin_user: User,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    record_property: Callable[[str, object], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require(pcscd_with_vpcd(), f"pcscd with vsmartcard-vpcd (port {VPCD_PORT})")
    require(agent_installed(), "the reader agent's venv (make agent-install) with pyscard")
    executable = chromium_path()
    settings.COUNTER_STREAM_SECONDS = 5

    resident = make_resident(office_a, family_name="窓口", given_name="花子")
    card = make_card(resident, applied_on=date(2024, 4, 20), issued_on=date(2024, 5, 15))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial=SERIAL,
        issued_on=date(2024, 5, 15),
    )
    pin_states_initialize(acting_user=FIXTURES, card=card)

    # The counter PC: enroll (pending), an administrator approves it for clerk_a's counter.
    home = tmp_path / "agent"
    fingerprint = agent_enroll(server=live_server.url, name="e2e 1番窓口PC", home=home)
    device = Device.objects.get(fingerprint=fingerprint)
    assert device.state == DeviceState.PENDING
    assert clerk_a.counter is not None
    device_approve(acting_user=admin_user, device=device, counter=clerk_a.counter)

    reader = vpcd_reader_name()
    simulator = Simulator(home=home, auth_serial=SERIAL, persona="ordinary")
    agent = agent_run(home=home, reader=reader, heartbeat=2)
    client = mfa_login(Client(), clerk_a)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; our ORM calls are plain ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with running(agent, simulator), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="ja-JP")
            name = django_settings.SESSION_COOKIE_NAME
            context.add_cookies([{"name": name, "value": cookie, "url": live_server.url}])
            page = context.new_page()
            page.goto(live_server.url + reverse("counters:live"))
            page.wait_for_selector("#card-read-panel[data-connected='1']", timeout=15_000)

            inserted_at = simulator.insert()
            resident_link = page.locator("#card-read-panel .card-read-resident a")
            try:
                resident_link.wait_for(timeout=PANEL_TIMEOUT_MS)
            except Exception:
                pytest.fail(
                    "the clerk's panel never showed the read\n--- agent output ---\n"
                    + agent.output()
                )
            shown_at = int(page.get_attribute("#card-read-panel", "data-shown-at") or 0) / 1000
            read_to_screen = shown_at - inserted_at
            record_property("read_to_screen_s", round(read_to_screen, 3))
            print(f"card insertion → resident on the clerk's screen: {read_to_screen:.3f} s")

            assert resident_link.inner_text() == "窓口\u3000花子"
            panel = page.locator("#card-read-panel")
            assert "交付済(有効)" in panel.inner_text()  # the card's state
            assert panel.locator("tr[data-pin='auth'] .tries").inner_text() == "3 / 3"
        finally:
            browser.close()

    read = CardRead.objects.get()
    assert (read.resident, read.card, read.device) == (resident, card, device)
    assert read.reader_name == reader
    device.refresh_from_db()
    assert device.reader_name == reader
    assert device.reader_status == "ok"
