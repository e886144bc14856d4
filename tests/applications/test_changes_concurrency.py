"""Two clerks at once on one card, with real threads on PostgreSQL: the last free line of
the endorsement field is written once (R-CHG-2), and two runs of the continued-use job void
each card once (R-CHG-4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.services_changes import (
    AddressChangeInput,
    Applicant,
    ContinuedUseInput,
    address_change_receive,
    continued_use_receive,
    continued_use_void_due,
)
from apps.cards.models import Card, ContinuedUse, Endorsement
from apps.cards.rules import CardState
from apps.residents.models import Resident
from tests.applications.helpers import LICENSE
from tests.applications.test_pay_once import _at_once

ON = date(2026, 11, 27)


@pytest.fixture
def world(transactional_db: Any, make_resident: Any, make_card: Any) -> tuple[User, Resident, Card]:
    office = Office.objects.create(code="c", name="本庁")
    counter = Counter.objects.create(office=office, code="1", name="1番窓口")
    clerk = User.objects.create_user(
        username="clerk1",
        password="test-pass-123456",
        role=Role.CLERK,
        office=office,
        counter=counter,
    )
    resident = make_resident(office)
    card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    return clerk, resident, card


def test_r_chg_2_last_free_line_is_written_once(
    world: tuple[User, Resident, Card], settings: Any
) -> None:
    clerk, resident, card = world
    settings.ENDORSEMENT_CAPACITY = 1
    results, errors = _at_once(
        lambda i: address_change_receive(
            acting_user=clerk,
            resident=resident,
            data=AddressChangeInput(
                applicant=Applicant(documents=LICENSE), address=f"みどり市本町{i + 1}丁目"
            ),
            on=ON,
        ),
        4,
    )
    assert len(results) == 1
    assert len(errors) == 3
    assert all(isinstance(error, ValidationError) for error in errors)
    assert Endorsement.objects.filter(card=card).count() == 1


def test_r_chg_4_two_job_runs_at_once_void_each_card_once(
    world: tuple[User, Resident, Card],
) -> None:
    clerk, resident, card = world
    continued_use_receive(
        acting_user=clerk,
        resident=resident,
        data=ContinuedUseInput(
            applicant=Applicant(documents=LICENSE),
            planned_move_out_on=ON - timedelta(days=5),
            moved_in_on=ON - timedelta(days=3),
            move_in_notice_on=ON,
            address="みどり市緑町1丁目",
            register_now=False,
        ),
        on=ON,
    )
    due = ON + timedelta(days=91)
    results, errors = _at_once(lambda i: continued_use_void_due(on=due), 3)
    assert not errors
    assert sum(results) == 1
    card.refresh_from_db()
    assert card.state == CardState.VOID
    assert ContinuedUse.objects.get(card=card).voided_on == due


def test_r_chg_4_a_clerk_and_the_job_at_once_void_the_card_once_without_a_deadlock(
    world: tuple[User, Resident, Card],
) -> None:
    """Both lock the card before its record: one voids it, the other is told or skips."""
    clerk, resident, card = world
    applicant = Applicant(documents=LICENSE)
    continued_use_receive(
        acting_user=clerk,
        resident=resident,
        data=ContinuedUseInput(
            applicant=applicant,
            planned_move_out_on=ON - timedelta(days=5),
            moved_in_on=ON - timedelta(days=3),
            move_in_notice_on=ON,
            register_now=False,
        ),
        on=ON,
    )
    day_91 = ON + timedelta(days=91)

    def act(i: int) -> object:
        if i == 0:
            return continued_use_void_due(on=day_91)
        return continued_use_receive(
            acting_user=clerk,
            resident=resident,
            data=ContinuedUseInput(applicant=applicant),
            on=day_91,
        )

    results, errors = _at_once(act, 2)
    assert all(isinstance(error, ValidationError) for error in errors), errors
    card.refresh_from_db()
    assert card.state == CardState.VOID
    record = ContinuedUse.objects.get(card=card)
    assert record.void_reason == "not_registered_in_time"
    assert len(results) + len(errors) == 2
