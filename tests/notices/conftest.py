"""Fixtures for the notices tests: cards with chosen expiries, certificates, a second office's
supervisor, eager Celery and a scratch MEDIA_ROOT."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.models import Office, User
from apps.accounts.roles import Role
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.residents.models import Resident
from config.celery import app as celery_app

_serials = itertools.count(1)


@pytest.fixture
def supervisor_b(office_b: Office) -> User:
    return User.objects.create_user(
        username="supervisor_b", password="test-pass-123456", role=Role.SUPERVISOR, office=office_b
    )


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in-process, as without REDIS_URL, whatever the environment says."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def card_expiring(make_card: Callable[..., Card]) -> Callable[..., Card]:
    """A card of ``resident`` in ``state`` whose expiry is ``expires_on``.

    Made through the real services (issued three years before the expiry), then the expiry
    is set: for Japanese nationals the job reads only the date, so any date can be tested.
    """

    def make(resident: Resident, expires_on: date, *, state: CardState = CardState.ACTIVE) -> Card:
        issued = expires_on - timedelta(days=3 * 365)
        card = make_card(
            resident,
            state=CardState.ARRIVED if state == CardState.ARRIVED else CardState.ACTIVE,
            applied_on=issued - timedelta(days=30),
            issued_on=issued,
        )
        Card.objects.filter(pk=card.pk).update(expires_on=expires_on)
        if state not in (CardState.ACTIVE, CardState.ARRIVED):
            Card.objects.filter(pk=card.pk).update(
                state=state, ended_on=None if state == CardState.SUSPENDED else issued
            )
        card.refresh_from_db()
        return card

    return make


@pytest.fixture
def certificate_on() -> Callable[..., Certificate]:
    def make(
        card: Card,
        expires_on: date,
        *,
        kind: CertificateKind = CertificateKind.AUTH,
        state: CertificateState = CertificateState.ACTIVE,
    ) -> Certificate:
        return Certificate.objects.create(
            card=card,
            kind=kind,
            serial=f"{next(_serials):08x}",
            issued_on=expires_on - timedelta(days=5 * 365),
            expires_on=expires_on,
            state=state,
        )

    return make
