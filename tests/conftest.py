"""Personas and factories shared by every test folder.

Personas (docs/architecture.md): a clerk at office A, a clerk at office B, a supervisor at A,
an auditor, an admin. Residents live in an office; out-of-office residents must be 404.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_arrive, card_hand_over, card_order
from apps.residents.models import Resident
from apps.residents.rules import my_number_check_digit
from apps.residents.services import ResidentData, resident_register
from tests import dbrole
from tests.actors import FIXTURES
from tests.auth import mfa_login

_sequence = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Any:
    """Migrated as the owner; from here on the run connects as `madoguchi_app` (R-AUD-2)."""
    with django_db_blocker.unblock():
        call_command("db_roles", verbosity=0)
    dbrole.switch_to_app_role()
    yield
    # The live panel's listener (a connection of its own) must let the database be dropped.
    from apps.counters import streams

    streams.shutdown()
    dbrole.switch_to_owner()


def valid_my_number(seed: int) -> str:
    """A fictional, check-digit-valid My Number (R-MYN-1) unique per seed."""
    first11 = f"{seed:011d}"
    return first11 + str(my_number_check_digit(first11))


@pytest.fixture
def office_a(db: Any) -> Office:
    return Office.objects.create(code="a", name="本庁", kind=Office.Kind.MAIN)


@pytest.fixture
def office_b(db: Any) -> Office:
    return Office.objects.create(code="b", name="支所", kind=Office.Kind.BRANCH)


@pytest.fixture
def counter_a(office_a: Office) -> Counter:
    return Counter.objects.create(office=office_a, code="1", name="1番窓口")


def _user(username: str, role: Role, office: Office | None, **extra: Any) -> User:
    return User.objects.create_user(
        username=username, password="test-pass-123456", role=role, office=office, **extra
    )


@pytest.fixture
def clerk_a(office_a: Office, counter_a: Counter) -> User:
    return _user(
        "clerk_a",
        Role.CLERK,
        office_a,
        counter=counter_a,
        last_name="窓口",
        designated_handler=True,
    )


@pytest.fixture
def clerk_b(office_b: Office) -> User:
    return _user("clerk_b", Role.CLERK, office_b, designated_handler=True)


@pytest.fixture
def supervisor_a(office_a: Office) -> User:
    return _user("supervisor_a", Role.SUPERVISOR, office_a, designated_handler=True)


@pytest.fixture
def auditor(office_a: Office) -> User:
    return _user("auditor", Role.AUDITOR, office_a)


@pytest.fixture
def admin_user(db: Any) -> User:
    return _user("admin", Role.ADMIN, None, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for() -> Callable[[User | None], Client]:
    """A client signed in as `user` with both factors (tests/auth.py); None: anonymous."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            mfa_login(client, user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Sign-in tests type passwords dozens of times; PBKDF2's cost is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Sign-in limits and used TOTP codes live in the shared cache (Redis): each test starts
    without the previous test's. Only this project's keys are removed (Celery shares Redis)."""
    _clear_cache()


def _clear_cache() -> None:
    from django.conf import settings
    from django.core.cache import cache

    backend = settings.CACHES["default"]["BACKEND"]
    if not backend.endswith("RedisCache"):
        cache.clear()
        return
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def make_resident(db: Any) -> Callable[..., Resident]:
    def make(
        office: Office,
        *,
        my_number: str | None = None,
        birth_date: date = date(1985, 10, 10),
        family_name_kana: str = "ヤマダ",
        given_name_kana: str = "ハナコ",
        **data: Any,
    ) -> Resident:
        n = next(_sequence)
        fields: dict[str, Any] = {
            "resident_code": f"{n:011d}",
            "family_name": "山田",
            "given_name": "花子",
            "family_name_kana": family_name_kana,
            "given_name_kana": given_name_kana,
            "birth_date": birth_date,
            "sex": "2",
            "address": "みどり市旭町1丁目1番1号",
        }
        fields.update(data)
        return resident_register(
            acting_user=FIXTURES,
            office=office,
            data=ResidentData(**fields),
            my_number=my_number or valid_my_number(700_000_000 + n),
        )

    return make


@pytest.fixture
def make_card(db: Any) -> Callable[..., Card]:
    """A card taken through the real services up to `state` (ordered, arrived or active)."""

    def make(
        resident: Resident,
        *,
        state: CardState = CardState.ACTIVE,
        applied_on: date = date(2020, 4, 20),
        issued_on: date = date(2020, 5, 15),
        arrived_on: date | None = None,
        handed_over_on: date | None = None,
    ) -> Card:
        card = card_order(acting_user=FIXTURES, resident=resident, applied_on=applied_on)
        if state == CardState.ORDERED:
            return card
        card = card_arrive(
            acting_user=FIXTURES, card=card, issued_on=issued_on, arrived_on=arrived_on or issued_on
        )
        if state == CardState.ARRIVED:
            return card
        return card_hand_over(acting_user=FIXTURES, card=card, on=handed_over_on or issued_on)

    return make


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Tasks sent with .delay() run in this process, as without REDIS_URL (make run)."""
    from config.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
