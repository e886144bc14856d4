"""The demo city goes in through the real services, so it must stay loadable and varied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from apps.accounts.models import User
from apps.applications.models import Application
from apps.cards.models import Card, ContinuedUse, Endorsement
from apps.demo.seed import SHOWCASE_AUTH_SERIAL, seed_demo
from apps.notices.models import Notice
from apps.residents.models import Resident
from apps.residents.rules import is_valid_my_number

pytestmark = pytest.mark.django_db


def test_demo_loads_once_with_every_role_and_many_card_states(
    django_capture_on_commit_callbacks: Callable[..., Any], celery_eager: None
) -> None:
    # Pickup notices follow the import's commit, through a Celery task (run in-process).
    with django_capture_on_commit_callbacks(execute=True):
        report = seed_demo(today=date(2026, 11, 27), residents=120)
    assert report is not None
    assert seed_demo(today=date(2026, 11, 27), residents=120) is None  # once only
    from apps.custody.models import CardCustody, Lot
    from apps.custody.rules import may_destroy
    from apps.custody.selectors import same_name_residents

    assert Lot.objects.exists()
    held = CardCustody.objects.select_related("card")
    assert any(
        may_destroy(arrived_on=c.card.arrived_on, today=date(2026, 11, 27), retention_months=6)
        for c in held
        if c.card.arrived_on
    )
    pair = Resident.objects.get(resident_code="10000000901")
    assert same_name_residents(resident=pair).count() == 1
    # 120 generated, the showcase, issue 10's ten card changes (apps.demo.seed_changes) and
    # ten procedures on a card in use (apps.demo.card_services), and the custody cases (a
    # same-name pair, one uncollected).
    assert Resident.objects.count() == 144
    assert set(User.objects.values_list("role", flat=True)) == {
        "clerk",
        "supervisor",
        "auditor",
        "admin",
    }
    states = set(Card.objects.values_list("state", flat=True))
    assert {"ordered", "active", "expired", "suspended"} <= states
    assert Resident.objects.exclude(nationality="JP").exists()
    assert Resident.objects.filter(birth_date__gt=date(2011, 11, 27)).exists()
    showcase = Resident.objects.get(resident_code="10000000001")
    assert (
        showcase.cards.get(state="active").certificates.filter(serial=SHOWCASE_AUTH_SERIAL).exists()
    )
    assert all(len(r.my_number_last4) == 4 for r in Resident.objects.all())
    # Recent applications went through the counter services and the J-LIS arrivals import.
    assert report.applications == Application.objects.count() > 0
    arrived = Card.objects.filter(state="arrived")
    assert arrived.exists()
    assert all(Application.objects.filter(new_card=card).exists() for card in arrived)
    assert Notice.objects.filter(card__in=arrived).count() == arrived.count()  # pickup notices
    assert is_valid_my_number("123456789018")
    # Issue 10: a resident in every situation of the card changes and express.
    assert Endorsement.objects.exists()
    assert ContinuedUse.objects.filter(registered_on__isnull=True, voided_on__isnull=True).exists()
    assert Card.objects.filter(expiry_extended=True).exists()
    assert Application.objects.filter(express=True, state="ordered").exists()
    assert Application.objects.filter(express=True, state="posted").exists()
    assert Resident.objects.filter(birth_date__gt=date(2025, 11, 27)).exists()  # under one
