from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_arrive, card_change_state, card_hand_over, card_order
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.certificates.services import card_end, certificate_issue
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db


def test_r_val_1_arrival_sets_expiry_from_the_jlis_issue_date(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    resident = make_resident(office_a, birth_date=date(1980, 10, 10))
    card = card_order(acting_user=FIXTURES, resident=resident, applied_on=date(2020, 4, 1))
    card = card_arrive(
        acting_user=FIXTURES, card=card, issued_on=date(2020, 5, 15), arrived_on=date(2020, 6, 1)
    )
    # R-VAL-4 worked example: expiry counts from the issue date, not arrival or handover.
    assert card.expires_on == date(2029, 10, 10)
    assert card.state == CardState.ARRIVED


def test_r_val_6_foreign_resident_card_ends_with_the_stay(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    resident = make_resident(
        office_a,
        nationality="VN",
        residence=Residence(
            category=ResidenceCategory.MID_LONG_TERM, period_ends_on=date(2027, 3, 31)
        ),
    )
    card = card_order(acting_user=FIXTURES, resident=resident, applied_on=date(2025, 4, 1))
    card = card_arrive(
        acting_user=FIXTURES, card=card, issued_on=date(2025, 5, 1), arrived_on=date(2025, 5, 8)
    )
    assert card.expires_on == date(2027, 3, 31)


def test_illegal_transition_is_refused_and_nothing_changes(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    card = card_order(
        acting_user=FIXTURES, resident=make_resident(office_a), applied_on=date(2024, 1, 5)
    )
    with pytest.raises(ValidationError, match="変更できません"):
        card_hand_over(acting_user=FIXTURES, card=card, on=date(2024, 2, 1))
    card.refresh_from_db()
    assert card.state == CardState.ORDERED


def test_r_rei_2_new_card_waits_for_the_old_one(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    resident = make_resident(office_a)
    old = make_card(resident)
    new = make_card(
        resident,
        state=CardState.ARRIVED,
        applied_on=date(2024, 6, 1),
        issued_on=date(2024, 7, 1),
    )
    with pytest.raises(ValidationError, match="返納"):
        card_hand_over(acting_user=FIXTURES, card=new, on=date(2024, 7, 10))
    card_change_state(
        acting_user=FIXTURES, card=old, to_state=CardState.RETURNED, on=date(2024, 7, 10)
    )
    card_hand_over(acting_user=FIXTURES, card=new, on=date(2024, 7, 10))
    assert Card.objects.get(pk=new.pk).state == CardState.ACTIVE


def test_database_allows_one_current_card_per_resident(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    from django.db import IntegrityError, transaction

    resident = make_resident(office_a)
    card = make_card(resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Card.objects.create(
            resident=resident,
            office=office_a,
            state=CardState.ACTIVE,
            applied_on=card.applied_on,
            issued_on=card.issued_on,
            expires_on=card.expires_on,
        )


def test_r_crt_5_certificates_end_with_the_card(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    resident = make_resident(office_a)
    card = make_card(resident)
    cert = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="AB:CD",
        issued_on=date(2020, 5, 15),
    )
    assert cert.serial == "abcd"
    card_end(acting_user=FIXTURES, card=card, to_state=CardState.LOST, on=date(2024, 1, 1))
    cert.refresh_from_db()
    assert cert.state == CertificateState.REVOKED
    assert cert.revoked_on == date(2024, 1, 1)


def test_r_crt_5_expired_card_leaves_certificates_expired(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    card = make_card(make_resident(office_a))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="01",
        issued_on=date(2020, 5, 15),
    )
    card_end(acting_user=FIXTURES, card=card, to_state=CardState.EXPIRED, on=date(2029, 10, 11))
    assert Certificate.objects.get().state == CertificateState.EXPIRED
