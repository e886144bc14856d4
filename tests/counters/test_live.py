"""The live panel over real HTTP: a signed read posted to a running server reaches a clerk's
open event stream (PostgreSQL NOTIFY at commit → LISTEN in the stream), and a real Chromium
shows the resident. No PC/SC here: tests/agent drives the same path from a simulated card."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import User
from apps.audit.models import AccessLog, Action
from apps.counters.models import Device
from apps.residents.models import Resident
from tests.auth import mfa_login
from tests.counters.helpers import READS, encode, read_payload, signed_headers
from tests.services import chromium_path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def session_cookie(user: User) -> str:
    client = mfa_login(Client(), user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def post_read(base_url: str, key: Ed25519PrivateKey, payload: dict[str, Any]) -> httpx.Response:
    body = encode(payload)
    headers = {
        "Content-Type": "application/json",
        **signed_headers(key, path=READS, body=body),
    }
    return httpx.post(base_url + READS, content=body, headers=headers, timeout=10)


@pytest.fixture
def short_streams(settings: Settings) -> None:
    settings.COUNTER_STREAM_SECONDS = 4


@pytest.mark.django_db(transaction=True)
def test_a_read_reaches_an_open_stream_at_once(
    live_server: LiveServer,
    short_streams: None,
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
) -> None:
    cookies = {django_settings.SESSION_COOKIE_NAME: session_cookie(clerk_a)}
    url = live_server.url + reverse("counters:live_stream")
    posted: list[float] = []
    payload = read_payload()

    def push() -> None:
        posted.append(time.perf_counter())
        assert post_read(live_server.url, device_key, payload).status_code == 201

    with (
        httpx.Client(cookies=cookies, timeout=10) as http,
        http.stream("GET", url) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == "retry: 1000"  # sent once the stream is LISTENing
        pusher = threading.Thread(target=push)
        pusher.start()
        received = None
        for line in lines:
            if line == "event: read":
                received = time.perf_counter()
                break
        event = []
        for line in lines:
            if not line:
                break
            event.append(line)
        pusher.join()
    assert received is not None, "the read never reached the stream"
    latency = received - posted[0]
    print(f"POST → event on the stream: {latency * 1000:.0f} ms")
    assert latency < 5  # generous: the goal (under a second) is measured by bench/reads.py
    assert any(payload["read_id"] in line for line in event)
    assert AccessLog.objects.filter(action=Action.CARD_READ, actor=clerk_a).count() == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_clerks_browser_shows_the_resident(
    live_server: LiveServer,
    short_streams: None,
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls below are plain
    # synchronous ones made between its calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    cookie = session_cookie(clerk_a)
    with sync_playwright() as playwright:
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
            page.goto(live_server.url + reverse("residents:search"))
            page.wait_for_selector("#card-read-panel[data-connected='1']", timeout=10_000)
            started = time.time()
            assert post_read(live_server.url, device_key, read_payload()).status_code == 201
            name = page.locator("#card-read-panel .card-read-resident a")
            name.wait_for(timeout=10_000)
            shown_at = int(page.get_attribute("#card-read-panel", "data-shown-at") or 0) / 1000
            assert name.inner_text() == "山田\u3000花子"
            print(f"POST → resident on screen: {(shown_at - started) * 1000:.0f} ms")
            # The link leads to the resident's page (keyboard: Alt+R).
            name.click()
            page.wait_for_url(f"**/residents/{card_holder.pk}/")
        finally:
            browser.close()
    assert AccessLog.objects.filter(action=Action.CARD_READ, resident=card_holder).exists()
