"""End to end through the real chain (simulator → pcscd → agent → server → Chromium) for the
handover interlock (R-HND-1, R-HND-2): pre-handover setup binds the card read on the clerk's
reader, the right card turns the handover checklist green by itself, and a second card with
another serial turns it red, blocks the handover and writes the access log.

Skips locally when pcscd/vpcd, Chromium or the agent's venv is missing; fails under CI=true.
Run under ``flock /tmp/mg-pcsc.lock`` (one vpcd port per machine).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Office, User
from apps.applications.arrivals import arrivals_import
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState, IdentityDocument
from apps.applications.services import ApplicationInput, application_receive
from apps.audit.models import AccessLog, Action
from apps.cards.rules import CardState
from apps.counters.models import Device
from apps.counters.services import device_approve
from apps.custody.models import CardCustody, Lot
from apps.custody.rules import normalize_serial
from apps.fees.services import fee_schedule_seed_default
from apps.residents.models import Resident
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
from tests.custody.helpers import card_of, place_of
from tests.services import chromium_path, require

pytestmark = [pytest.mark.pcsc, pytest.mark.browser]

RIGHT = "5e2e11"  # the holder's card
WRONG = "5e2e22"  # another resident's card, set up in the same lot
TIMEOUT_MS = 30_000


def _arrived(clerk: User, resident: Resident) -> Application:
    application = application_receive(
        acting_user=clerk,
        resident=resident,
        data=ApplicationInput(
            kind=ApplicationKind.FIRST_ISSUE,
            documents=frozenset({IdentityDocument.DRIVERS_LICENSE}),
        ),
        on=timezone.localdate() - timedelta(days=20),
    )
    today = timezone.localdate() - timedelta(days=1)
    arrivals_import(
        acting_user=clerk,
        content=f"card_id,issued_on,arrived_on\n{application.new_card_id},{today},{today}\n".encode(),
        filename=f"arrivals-{uuid.uuid4().hex[:6]}.csv",
        on=today,
    )
    return Application.objects.get(pk=application.pk)


@pytest.mark.django_db(transaction=True)
def test_setup_binds_the_card_and_the_interlock_turns_green_then_red(
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
    clerk_a: User,
    admin_user: User,
    make_resident: Callable[..., Resident],
    office_a: Office,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require(pcscd_with_vpcd(), f"pcscd with vsmartcard-vpcd (port {VPCD_PORT})")
    require(agent_installed(), "the reader agent's venv (make agent-install) with pyscard")
    executable = chromium_path()
    settings.COUNTER_STREAM_SECONDS = 5
    fee_schedule_seed_default()

    holder = make_resident(
        office_a, family_name="交付", given_name="一郎", family_name_kana="コウフ"
    )
    other = make_resident(
        office_a, family_name="別人", given_name="二郎", family_name_kana="ベツジン"
    )
    mine = _arrived(clerk_a, holder)
    theirs = _arrived(clerk_a, other)
    lot_day = card_of(mine).arrived_on
    assert lot_day is not None
    from apps.custody.services import lot_receive

    lot = lot_receive(acting_user=clerk_a, place=place_of(clerk_a), arrived_on=lot_day)
    assert lot.card_count == 2

    home = tmp_path / "agent"
    fingerprint = agent_enroll(server=live_server.url, name="e2e 交付窓口PC", home=home)
    device = Device.objects.get(fingerprint=fingerprint)
    assert clerk_a.counter is not None
    device_approve(acting_user=admin_user, device=device, counter=clerk_a.counter)
    reader = vpcd_reader_name()
    agent = agent_run(home=home, reader=reader, heartbeat=2)
    client = mfa_login(Client(), clerk_a)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with running(agent), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="ja-JP")
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": cookie,
                        "url": live_server.url,
                    }
                ]
            )
            page = context.new_page()

            # 1. Pre-handover setup (R-HND-1): each card read in lot order, its name large.
            page.goto(live_server.url + reverse("custody:setup", args=[lot.pk]))
            order = (RIGHT, WRONG) if lot_first(lot) == mine.new_card_id else (WRONG, RIGHT)
            for serial in order:
                name = page.locator("#setup-name").inner_text()
                expect(page.locator("#setup-panel[data-connected='1']")).to_be_visible(
                    timeout=TIMEOUT_MS
                )
                simulator = Simulator(home=home, auth_serial=serial, persona="ordinary")
                with running(simulator):
                    simulator.insert()
                    button = page.locator("#setup-bind button")
                    expect(button).to_be_visible(timeout=TIMEOUT_MS)
                    assert name in button.inner_text()
                    button.press("Enter")
                    expect(page.locator("body")).to_contain_text(
                        f"{name}さんのカードを登録しました", timeout=TIMEOUT_MS
                    )
                    simulator.remove()
            expect(page.locator("#setup-done")).to_be_visible()
            bound = CardCustody.objects.get(pk=mine.new_card_id)
            assert bound.auth_serial == normalize_serial(RIGHT)
            assert CardCustody.objects.get(pk=theirs.new_card_id).auth_serial == WRONG

            # 2. The right card at the handover: the checklist turns green by itself.
            page.goto(live_server.url + reverse("applications:handover", args=[mine.pk]))
            expect(page.locator("body[data-interlock-connected='1']")).to_be_attached(
                timeout=TIMEOUT_MS
            )
            right = Simulator(home=home, auth_serial=RIGHT, persona="ordinary")
            with running(right):
                right.insert()
                panel = page.locator("#handover-interlock[data-verdict='match']")
                expect(panel).to_be_visible(timeout=TIMEOUT_MS)
                expect(panel).to_contain_text("交付\u3000一郎")
                right.remove()

            # 3. Another card with another serial: red with both names, blocked and logged.
            wrong = Simulator(home=home, auth_serial=WRONG, persona="ordinary")
            with running(wrong):
                wrong.insert()
                red = page.locator("#handover-interlock[data-verdict='mismatch']")
                expect(red).to_be_visible(timeout=TIMEOUT_MS)
                expect(red).to_contain_text("交付\u3000一郎")
                expect(red).to_contain_text("別人\u3000二郎")
                page.get_by_label("運転免許証").first.check()
                page.get_by_label("暗証番号の設定が済んだ").check()
                page.get_by_label("通知カードを返納した").check()
                page.get_by_label("交付通知書の持参がないため、追加の本人確認を行った").check()
                page.get_by_role("button", name="交付する").click()
                expect(page.locator("form.panel")).to_contain_text(
                    "一致しないため、交付できません", timeout=TIMEOUT_MS
                )
        finally:
            browser.close()

    assert Application.objects.get(pk=mine.pk).state == ApplicationState.ARRIVED
    assert card_of(mine).state == CardState.ARRIVED
    blocked = AccessLog.objects.filter(action=Action.HANDOVER_BLOCKED)
    assert {row.resident_id for row in blocked} == {holder.pk, other.pk}


def lot_first(lot: Lot) -> uuid.UUID:
    """The card the setup screen asks for first (lot order)."""
    first = CardCustody.objects.filter(lot=lot).order_by("position").first()
    assert first is not None
    return first.card_id
