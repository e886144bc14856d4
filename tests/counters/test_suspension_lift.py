"""Lifting a suspension at the counter rests on a card read (R-SUS-2): from the clerk's own
counter, fresh (5 minutes, the R-HND-2 policy), of this very card by its AUTH certificate;
in person, identity checked; refused after a cancellation. Also through the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.applications.card_services import Applicant
from apps.applications.rules import ApplicantType, ApplicationKind, IdentityDocument
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_change_state
from apps.certificates.services import card_end
from apps.counters.models import CardRead, Device, MatchMethod, ReadKind
from apps.counters.rules import lift_read_problem
from apps.counters.services import suspension_lift_at_counter
from apps.residents.models import Resident
from tests.actors import FIXTURES

HOLDER = Applicant(documents=frozenset({IdentityDocument.DRIVERS_LICENSE}))
NOW = timezone.now()


def _problem(**changes: object) -> str | None:
    facts: dict[str, object] = {
        "read_counter_id": 1,
        "clerk_counter_id": 1,
        "read_card_id": "c",
        "card_id": "c",
        "card_identified": True,
        "read_at": NOW - timedelta(seconds=300),
        "now": NOW,
    }
    facts.update(changes)
    return lift_read_problem(**facts)  # type: ignore[arg-type]


def test_r_sus_2_the_read_must_be_this_counters_fresh_read_of_this_card() -> None:
    assert _problem() is None  # 5 minutes exactly: still fresh
    assert _problem(read_at=NOW - timedelta(seconds=301)) is not None
    assert _problem(clerk_counter_id=2) is not None
    assert _problem(clerk_counter_id=None) is not None
    assert _problem(read_card_id="other") is not None
    assert _problem(card_identified=False) is not None  # a guess from the My Number only


@pytest.fixture
def suspended(card_holder: Resident) -> Card:
    card = Card.objects.get(resident=card_holder)
    return card_change_state(
        acting_user=FIXTURES, card=card, to_state=CardState.SUSPENDED, on=timezone.localdate()
    )


def _read(device: Device, card: Card | None, *, counter: Counter, age: float = 10) -> CardRead:
    return CardRead.objects.create(
        read_id=uuid.uuid4(),
        device=device,
        counter=counter,
        kind=ReadKind.CARD,
        read_at=timezone.now() - timedelta(seconds=age),
        certificate_serial="a0001",
        match=MatchMethod.CERTIFICATE if card else MatchMethod.NONE,
        resident=card.resident if card else None,
        card=card,
    )


def test_r_sus_2_lifted_after_the_read(
    suspended: Card, device: Device, counter_a: Counter, clerk_a: User
) -> None:
    read = _read(device, suspended, counter=counter_a)
    application = suspension_lift_at_counter(
        acting_user=clerk_a, card=suspended, read=read, applicant=HOLDER
    )
    assert application.kind == ApplicationKind.SUSPENSION_LIFT
    assert application.card_procedure.card_read_id == read.read_id
    suspended.refresh_from_db()
    assert suspended.state == CardState.ACTIVE


def test_r_sus_2_a_stale_read_or_a_proxy_changes_nothing(
    suspended: Card, device: Device, counter_a: Counter, clerk_a: User
) -> None:
    stale = _read(device, suspended, counter=counter_a, age=301)
    with pytest.raises(ValidationError, match="5分"):
        suspension_lift_at_counter(
            acting_user=clerk_a, card=suspended, read=stale, applicant=HOLDER
        )
    fresh = _read(device, suspended, counter=counter_a)
    proxy = Applicant(
        applicant_type=ApplicantType.PROXY,
        applicant_name="代理 人",
        documents=frozenset({IdentityDocument.DRIVERS_LICENSE, IdentityDocument.PROXY_LETTER}),
    )
    with pytest.raises(ValidationError, match="本人が来庁"):
        suspension_lift_at_counter(acting_user=clerk_a, card=suspended, read=fresh, applicant=proxy)
    suspended.refresh_from_db()
    assert suspended.state == CardState.SUSPENDED


def test_r_sus_2_refused_after_cancellation_even_with_the_read(
    suspended: Card, device: Device, counter_a: Counter, clerk_a: User
) -> None:
    card_end(acting_user=FIXTURES, card=suspended, to_state=CardState.VOID, on=timezone.localdate())
    read = _read(device, suspended, counter=counter_a)
    with pytest.raises(ValidationError, match="廃止の届出"):
        suspension_lift_at_counter(acting_user=clerk_a, card=suspended, read=read, applicant=HOLDER)


def test_r_sus_2_the_lift_api(
    suspended: Card,
    device: Device,
    counter_a: Counter,
    clerk_a: User,
    clerk_b: User,
    client_for: Callable[[User | None], Client],
) -> None:
    read = _read(device, suspended, counter=counter_a)
    body = {
        "resident_id": str(suspended.resident_id),
        "read_id": str(read.read_id),
        "documents": ["drivers_license"],
    }
    url = "/api/counters/suspension-lifts/"
    assert client_for(clerk_b).post(url, body, content_type="application/json").status_code == 404
    response = client_for(clerk_a).post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "suspension_lift"
    assert response.json()["state"] == "done"
    again = client_for(clerk_a).post(url, body, content_type="application/json")
    assert again.status_code == 400  # nothing suspended any more


def test_the_lift_screen_waits_for_the_read_then_shows_it(
    suspended: Card,
    device: Device,
    counter_a: Counter,
    clerk_a: User,
    office_a: Office,
    client_for: Callable[[User | None], Client],
) -> None:
    client = client_for(clerk_a)
    url = f"/counters/lift/{suspended.resident_id}/"
    page = client.get(url).content.decode()
    assert "data-read-wait" in page
    read = _read(device, suspended, counter=counter_a)
    part = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "data-read-ok" in part
    assert f'value="{read.pk}"' in part
