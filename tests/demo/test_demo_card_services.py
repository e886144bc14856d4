"""The demo has a resident in each situation of the procedures on a card in use, so that
`make run` shows every one (R-CRT-2/3, R-SUS-1/2, R-PIN-1, R-CRT-5)."""

from __future__ import annotations

from datetime import date

import pytest

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.cards.models import Card, SuspensionReport
from apps.cards.rules import CardState
from apps.certificates.models import PinState
from apps.demo.card_services import LIFT_AUTH_SERIAL, seed_card_services

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 27)


def _card(given: str) -> Card:
    return Card.objects.get(resident__given_name=given)


def test_every_situation_is_in_the_demo(clerk_a: User) -> None:
    assert clerk_a.office is not None
    seed_card_services(office=clerk_a.office, clerk=clerk_a, today=TODAY)
    suspended = _card("一郎")
    assert suspended.state == CardState.SUSPENDED
    assert suspended.certificates.filter(serial=LIFT_AUTH_SERIAL).exists()
    assert SuspensionReport.objects.filter(card=suspended).exists()
    assert _card("二郎").state == CardState.VOID  # lifting refused after cancellation
    assert _card("三郎").state == CardState.LOST  # found: back only through lifting
    assert PinState.objects.filter(card=_card("四郎"), tries_left=0).count() == 2
    waiting = Application.objects.get(kind=ApplicationKind.LOCK_RELEASE)
    assert waiting.state == ApplicationState.RECEIVED
    assert waiting.card_procedure.awaiting_answer
    assert _card("済子").state == CardState.RETURNED
    assert _card("六郎").state == CardState.ACTIVE
    teen = _card("十五").resident
    assert teen.age_on(TODAY) == 15
    assert _card("証明").resident.age_on(TODAY) == 14
    assert _card("和夫").resident.adult_ward
