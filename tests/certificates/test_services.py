from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.certificates.models import Certificate, CertificateState, PinState
from apps.certificates.rules import CertificateKind, PinKind
from apps.certificates.services import (
    certificate_issue,
    certificates_expire_due,
    pin_state_observe,
    pin_states_initialize,
)
from apps.residents.models import Resident
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db


def test_r_crt_1_certificate_expiry_is_the_fifth_birthday(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    card = make_card(make_resident(office_a, birth_date=date(1980, 10, 10)))
    cert = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.SIGNING,
        serial="0a",
        issued_on=date(2020, 5, 15),
    )
    assert cert.expires_on == date(2024, 10, 10)


def test_r_crt_2_no_signing_certificate_under_15(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    child = make_resident(office_a, birth_date=date(2010, 6, 1))
    card = make_card(child, applied_on=date(2020, 4, 1), issued_on=date(2020, 5, 15))
    with pytest.raises(ValidationError, match="15歳未満の方には署名用電子証明書を発行できません"):
        certificate_issue(
            acting_user=FIXTURES,
            card=card,
            kind=CertificateKind.SIGNING,
            serial="0b",
            issued_on=date(2020, 5, 15),
        )
    with pytest.raises(ValidationError):
        certificate_issue(
            acting_user=FIXTURES,
            card=card,
            kind=CertificateKind.AUTH,
            serial="0c",
            issued_on=date(2020, 5, 15),
        )
    auth = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="0c",
        issued_on=date(2020, 5, 15),
        legal_rep_requests=True,
    )
    assert auth.state == CertificateState.ACTIVE
    assert Certificate.objects.count() == 1


def test_r_crt_3_new_certificate_replaces_the_active_one(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    card = make_card(make_resident(office_a, birth_date=date(1980, 10, 10)))
    first = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="01",
        issued_on=date(2020, 5, 15),
    )
    second = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="02",
        issued_on=date(2024, 9, 1),
    )
    first.refresh_from_db()
    assert first.state == CertificateState.REVOKED
    assert second.expires_on == date(2028, 10, 10)
    # R-CRT-1: never past the card (the card expires 2029-10-10; the 5th birthday is 2030).
    third = certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="03",
        issued_on=date(2025, 11, 1),
    )
    assert third.expires_on == date(2029, 10, 10)


def test_expire_due_marks_only_past_certificates(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    card = make_card(make_resident(office_a, birth_date=date(1980, 10, 10)))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="01",
        issued_on=date(2020, 5, 15),
    )
    assert certificates_expire_due(on=date(2024, 10, 10)) == 0  # valid through its last day
    assert certificates_expire_due(on=date(2024, 10, 11)) == 1
    assert Certificate.objects.get().state == CertificateState.EXPIRED


def test_r_pin_3_only_the_retry_count_is_kept(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    card = make_card(make_resident(office_a))
    states = pin_states_initialize(acting_user=FIXTURES, card=card)
    assert {s.kind: s.tries_left for s in states} == {
        "signing": 5,
        "auth": 3,
        "resident": 3,
        "text": 3,
    }
    observed = pin_state_observe(acting_user=FIXTURES, card=card, kind=PinKind.AUTH, tries_left=0)
    assert observed.locked
    with pytest.raises(ValidationError):
        pin_state_observe(acting_user=FIXTURES, card=card, kind=PinKind.AUTH, tries_left=4)
    field_names = {field.name for field in PinState._meta.get_fields()}
    assert not any(name == "pin" or "value" in name for name in field_names)
