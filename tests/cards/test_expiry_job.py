"""States follow the calendar: the daily job moves cards and certificates past their expiry.

A card (R-VAL) and a certificate (R-CRT-1) are valid through their expiry date; from the next
day the stored state says EXPIRED, and the screens read that state.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_change_state, cards_expire_due
from apps.cards.tasks import cards_expire_due_task
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.certificates.services import card_end, certificate_issue, certificates_expire_due
from apps.certificates.tasks import certificates_expire_due_task
from config.celery import app as celery_app
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db

# The conftest's default card: issued 2020-05-15 to a holder born 1985-10-10 → 2029-10-10.
EXPIRY = date(2029, 10, 10)


@pytest.fixture
def card(make_resident: Any, make_card: Any, office_a: Any) -> Card:
    card: Card = make_card(make_resident(office_a))
    assert card.expires_on == EXPIRY
    return card


def _state(card: Card) -> str:
    return Card.objects.values_list("state", flat=True).get(pk=card.pk)


def test_r_val_a_card_is_valid_through_its_last_day_then_expired(card: Card) -> None:
    assert cards_expire_due(on=EXPIRY) == 0
    assert _state(card) == CardState.ACTIVE
    assert cards_expire_due(on=EXPIRY + timedelta(days=1)) == 1
    card.refresh_from_db()
    assert card.state == CardState.EXPIRED
    assert (card.ended_on, card.end_reason) == (EXPIRY, "有効期限の到来")


def test_the_job_is_idempotent_and_names_itself_in_the_history(card: Card) -> None:
    day = EXPIRY + timedelta(days=3)
    assert cards_expire_due(on=day) == 1
    assert cards_expire_due(on=day) == 0
    event = card.events.order_by("-pgh_id").select_related("pgh_context").first()  # type: ignore[attr-defined]
    assert event.state == CardState.EXPIRED
    assert event.pgh_context.metadata["system"] == "cards.expire_due"


def test_a_suspended_card_expires_too_and_an_ended_one_stays(
    make_resident: Any, make_card: Any, office_a: Any, card: Card
) -> None:
    card_change_state(
        acting_user=FIXTURES, card=card, to_state=CardState.SUSPENDED, on=date(2025, 1, 1)
    )
    lost = make_card(make_resident(office_a, family_name_kana="スズキ"))
    card_end(acting_user=FIXTURES, card=lost, to_state=CardState.LOST, on=date(2025, 1, 1))
    ordered = make_card(make_resident(office_a, family_name_kana="タナカ"), state=CardState.ORDERED)
    assert cards_expire_due(on=EXPIRY + timedelta(days=1)) == 1
    assert _state(card) == CardState.EXPIRED
    assert _state(lost) == CardState.LOST
    assert _state(ordered) == CardState.ORDERED


def test_r_crt_1_certificates_expire_by_their_own_date(card: Card) -> None:
    certificate = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="c0ffee",
        issued_on=date(2020, 5, 15),
    )
    ends = certificate.expires_on
    assert certificates_expire_due(on=ends) == 0
    assert certificates_expire_due(on=ends + timedelta(days=1)) == 1
    assert certificates_expire_due(on=ends + timedelta(days=1)) == 0
    assert Certificate.objects.get().state == CertificateState.EXPIRED


def test_the_jobs_log_their_counts(card: Card, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    cards_expire_due(on=EXPIRY + timedelta(days=1))
    certificates_expire_due(on=EXPIRY + timedelta(days=1))
    assert "cards expired: on=2029-10-11 count=1" in caplog.text
    assert "certificates expired: on=2029-10-11 count=0" in caplog.text


def test_the_tasks_take_an_iso_date_and_run_daily(card: Card) -> None:
    assert certificates_expire_due_task("2029-10-11") == 0
    assert cards_expire_due_task("2029-10-11") == 1
    schedule = celery_app.conf.beat_schedule
    assert schedule["cards-expire-due"]["task"] == "cards.expire_due"
    assert schedule["certificates-expire-due"]["task"] == "certificates.expire_due"


def test_the_command_runs_both(card: Card, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("expire_due", "--date", "2029-10-11")
    assert "cards=1 certificates=0" in capsys.readouterr().out
    assert _state(card) == CardState.EXPIRED


def test_the_resident_page_reads_the_stored_state(
    card: Card, client_for: Any, clerk_a: Any
) -> None:
    url = reverse("residents:detail", args=[card.resident_id])
    Card.objects.filter(pk=card.pk).update(expires_on=date(2020, 6, 1))
    body = client_for(clerk_a).get(url).content.decode()
    assert 'data-card-state="active"' in body  # not guessed from the date on the screen
    cards_expire_due(on=date(2020, 6, 2))
    body = client_for(clerk_a).get(url).content.decode()
    assert 'data-card-state="expired"' in body
    assert "有効期限切れ" in body
