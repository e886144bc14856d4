"""Foundation acceptance, in a real browser: a clerk logs in, finds a resident by kana and
sees the card's expiry in both date forms; the My Number stays masked until revealed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.residents.models import Resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_finds_resident_by_kana_and_sees_expiry_in_both_forms(
    page: Any,
    login: Callable[..., None],
    live_server: LiveServer,
    clerk_a: User,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
) -> None:
    resident = make_resident(office_a, my_number="123456789018")
    make_card(resident)
    login(page, "clerk_a")
    assert page.locator("h1").inner_text() == "住民検索"

    # Keyboard only: the kana field has focus, Enter searches.
    page.keyboard.type("やまだ")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="山田\u3000花子").click()

    expiry = page.locator(".card .expiry").first.inner_text()
    assert "2029年10月10日 / 令和11年10月10日" in expiry
    assert page.locator(".mynumber").inner_text() == "**** **** 9018"
    assert "9018" not in page.url

    page.select_option("#id_purpose", "card_procedure")
    page.get_by_role("button", name="番号を表示").click()
    page.wait_for_selector("text=1234 5678 9018")
