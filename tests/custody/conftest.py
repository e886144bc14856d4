"""Fixtures of the custody tests: an arrived first-issue application of a resident at office A."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, NotificationCardStatus
from apps.applications.services import HandoverInput
from apps.fees.services import fee_schedule_seed_default
from tests.applications.helpers import LICENSE, arrive, receive

ON = date(2026, 10, 1)
ARRIVED_ON = ON + timedelta(days=20)
HANDOVER = HandoverInput(
    documents=LICENSE,
    pins_set=True,
    notification_card=NotificationCardStatus.RETURNED,
    extra_identity_check=True,
)


@pytest.fixture
def counter_a2(office_a: Office) -> Counter:
    return Counter.objects.create(office=office_a, code="2", name="2番窓口")


@pytest.fixture
def clerk_a2(office_a: Office, counter_a2: Counter) -> User:
    return User.objects.create_user(
        username="clerk_a2",
        password="test-pass-123456",
        role=Role.CLERK,
        office=office_a,
        counter=counter_a2,
        last_name="二番",
    )


@pytest.fixture
def supervisor_a2(office_a: Office) -> User:
    return User.objects.create_user(
        username="supervisor_a2",
        password="test-pass-123456",
        role=Role.SUPERVISOR,
        office=office_a,
        last_name="次席",
    )


@pytest.fixture
def make_arrived(clerk_a: User, make_resident: Any, office_a: Office) -> Any:
    # A transactional test empties the tables the data migration filled: the fee schedule too.
    fee_schedule_seed_default()

    def make(**resident: Any) -> Application:
        holder = make_resident(office_a, **resident)
        application = receive(clerk_a, holder, ApplicationKind.FIRST_ISSUE, on=ON)
        arrive(
            clerk_a, application, issued_on=ARRIVED_ON - timedelta(days=2), arrived_on=ARRIVED_ON
        )
        return Application.objects.get(pk=application.pk)

    return make


@pytest.fixture
def arrived(make_arrived: Any) -> Application:
    application: Application = make_arrived(family_name_kana="コウフ", given_name_kana="タロウ")
    return application
