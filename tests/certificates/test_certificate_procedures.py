"""The e-certificate procedures at the counter (R-CRT-1…5): issue, add later, renew, revoke;
SIGNING refused to under-15s and adult wards at their boundaries, AUTH for them only at the
legal representative's request; certificates end with their card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import Office, User
from apps.applications.card_services import (
    Applicant,
    CertificateInput,
    ReturnInput,
    card_return,
    certificate_procedure,
)
from apps.applications.models import Application, CardProcedure
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    IdentityDocument,
    ReturnReason,
)
from apps.cards.models import Card
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateAction, CertificateKind, issue_refusal
from apps.fees.rules import FeeRow
from apps.fees.services import fee_schedule_seed_default
from apps.residents.models import Resident

HOLDER = Applicant(documents=frozenset({IdentityDocument.MY_NUMBER_CARD}))
LEGAL_REP = Applicant(
    applicant_type=ApplicantType.LEGAL_REP,
    applicant_name="山田 太郎",
    documents=frozenset({IdentityDocument.DRIVERS_LICENSE, IdentityDocument.LEGAL_REP_PROOF}),
)
BIRTH = date(2011, 6, 1)  # turns 15 on 2026-06-01


# --- the rule (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "refused"),
    [(date(2026, 5, 31), True), (date(2026, 6, 1), False)],
    ids=["r_crt_2_day_before_15th_birthday", "r_crt_3_on_15th_birthday"],
)
def test_r_crt_2_signing_refused_under_15_at_the_boundary(on: date, refused: bool) -> None:
    reason = issue_refusal(kind=CertificateKind.SIGNING, birth_date=BIRTH, on=on, adult_ward=False)
    assert (reason is not None) is refused
    if refused:
        assert reason is not None
        assert "15歳未満" in reason


def test_r_crt_2_signing_refused_to_an_adult_ward_even_at_the_representatives_request() -> None:
    reason = issue_refusal(
        kind=CertificateKind.SIGNING,
        birth_date=date(1960, 1, 1),
        on=date(2026, 6, 1),
        adult_ward=True,
        legal_rep_requests=True,
    )
    assert reason is not None
    assert "成年被後見人" in reason


@pytest.mark.parametrize("adult_ward", [True, False], ids=["adult_ward", "under_15"])
def test_r_crt_2_auth_only_at_the_legal_representatives_request(adult_ward: bool) -> None:
    birth = date(1960, 1, 1) if adult_ward else BIRTH
    on = date(2026, 5, 31)
    assert issue_refusal(kind=CertificateKind.AUTH, birth_date=birth, on=on, adult_ward=adult_ward)
    assert (
        issue_refusal(
            kind=CertificateKind.AUTH,
            birth_date=birth,
            on=on,
            adult_ward=adult_ward,
            legal_rep_requests=True,
        )
        is None
    )


# --- the procedure ------------------------------------------------------------------------------


@pytest.fixture
def child_card(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> Card:
    fee_schedule_seed_default()
    resident = make_resident(office_a, birth_date=BIRTH)
    return make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))


def _issue(
    clerk: User,
    card: Card,
    kind: CertificateKind,
    *,
    on: date,
    applicant: Applicant = LEGAL_REP,
    serial: str = "a1",
    legal_rep_requests: bool = False,
    action: CertificateAction = CertificateAction.ISSUE,
) -> Application:
    return certificate_procedure(
        acting_user=clerk,
        card=card,
        data=CertificateInput(
            action=action,
            kind=kind,
            applicant=applicant,
            serial=serial,
            legal_rep_requests=legal_rep_requests,
        ),
        on=on,
    )


def test_r_crt_2_r_crt_3_child_signing_refused_the_day_before_15_then_added_on_the_birthday(
    child_card: Card, clerk_a: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        _issue(clerk_a, child_card, CertificateKind.SIGNING, on=date(2026, 5, 31))
    assert "15歳未満の方には署名用電子証明書を発行できません" in " ".join(refused.value.messages)
    assert not Certificate.objects.filter(card=child_card).exists()

    # On the 15th birthday the holder applies in person and adds SIGNING (R-CRT-3).
    application = _issue(
        clerk_a, child_card, CertificateKind.SIGNING, on=date(2026, 6, 1), applicant=HOLDER
    )
    assert application.kind == ApplicationKind.CERTIFICATE
    assert application.state == ApplicationState.DONE
    assert application.fee_amount_yen == 0
    assert application.fee_row == FeeRow.CERTIFICATE_ONLY
    certificate = Certificate.objects.get(card=child_card, kind=CertificateKind.SIGNING)
    assert certificate.issued_on == date(2026, 6, 1)
    detail = CardProcedure.objects.get(application=application)
    assert detail.certificate == certificate


def test_r_crt_2_child_auth_only_when_the_legal_representative_asks(
    child_card: Card, clerk_a: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        _issue(clerk_a, child_card, CertificateKind.AUTH, on=date(2026, 5, 1))
    assert "法定代理人の申請がある場合のみ" in " ".join(refused.value.messages)
    _issue(clerk_a, child_card, CertificateKind.AUTH, on=date(2026, 5, 1), legal_rep_requests=True)
    assert Certificate.objects.get(card=child_card).kind == CertificateKind.AUTH


def test_r_crt_2_adult_ward_signing_refused_with_the_reason(
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    clerk_a: User,
) -> None:
    fee_schedule_seed_default()
    ward = make_resident(office_a, birth_date=date(1950, 3, 3), adult_ward=True)
    card = make_card(ward)
    with pytest.raises(ValidationError) as refused:
        _issue(clerk_a, card, CertificateKind.SIGNING, on=date(2024, 6, 1), legal_rep_requests=True)
    assert "成年被後見人の方には署名用電子証明書を発行できません" in " ".join(
        refused.value.messages
    )


def test_r_crt_1_renew_replaces_and_revoke_ends_the_certificate(
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    clerk_a: User,
) -> None:
    fee_schedule_seed_default()
    card = make_card(make_resident(office_a))
    on = date(2024, 6, 1)
    with pytest.raises(ValidationError, match="更新する"):
        _issue(
            clerk_a,
            card,
            CertificateKind.AUTH,
            on=on,
            applicant=HOLDER,
            action=CertificateAction.RENEW,
        )
    _issue(clerk_a, card, CertificateKind.AUTH, on=on, applicant=HOLDER, serial="b1")
    with pytest.raises(ValidationError, match="更新の場合"):
        _issue(clerk_a, card, CertificateKind.AUTH, on=on, applicant=HOLDER, serial="b2")
    _issue(
        clerk_a,
        card,
        CertificateKind.AUTH,
        on=date(2024, 7, 1),
        applicant=HOLDER,
        serial="b2",
        action=CertificateAction.RENEW,
    )
    states = dict(Certificate.objects.filter(card=card).values_list("serial", "state"))
    assert states == {"b1": CertificateState.REVOKED, "b2": CertificateState.ACTIVE}
    _issue(
        clerk_a,
        card,
        CertificateKind.AUTH,
        on=date(2024, 8, 1),
        applicant=HOLDER,
        action=CertificateAction.REVOKE,
    )
    assert Certificate.objects.get(serial="b2").state == CertificateState.REVOKED
    assert card.__class__.objects.get(pk=card.pk).state == "active"  # the card stays


def test_r_crt_5_certificates_end_with_the_returned_card(
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    clerk_a: User,
) -> None:
    fee_schedule_seed_default()
    card = make_card(make_resident(office_a))
    _issue(clerk_a, card, CertificateKind.AUTH, on=date(2024, 6, 1), applicant=HOLDER, serial="c1")
    _issue(
        clerk_a, card, CertificateKind.SIGNING, on=date(2024, 6, 1), applicant=HOLDER, serial="c2"
    )
    application = card_return(
        acting_user=clerk_a,
        card=card,
        data=ReturnInput(reason=ReturnReason.LEFT_JAPAN, applicant=HOLDER),
        on=date(2024, 9, 1),
    )
    assert application.kind == ApplicationKind.CARD_RETURN
    assert application.fee_row == ""
    assert application.fee_schedule_id is None
    card.refresh_from_db()
    assert card.state == "returned"
    assert card.ended_on == date(2024, 9, 1)
    assert set(Certificate.objects.filter(card=card).values_list("state", flat=True)) == {
        CertificateState.REVOKED
    }
    with pytest.raises(ValidationError, match="既に返納"):
        card_return(
            acting_user=clerk_a,
            card=card,
            data=ReturnInput(reason=ReturnReason.CITY_CANCEL),
            on=date(2024, 9, 2),
        )


def test_the_city_cancels_a_card_without_anyone_at_the_counter(
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    clerk_a: User,
    clerk_b: User,
) -> None:
    fee_schedule_seed_default()
    card = make_card(make_resident(office_a))
    with pytest.raises(Exception, match="この住民の手続はできません"):
        card_return(
            acting_user=clerk_b, card=card, data=ReturnInput(reason=ReturnReason.CITY_CANCEL)
        )
    card_return(acting_user=clerk_a, card=card, data=ReturnInput(reason=ReturnReason.CITY_CANCEL))
    card.refresh_from_db()
    assert card.state == "void"
    assert card.end_reason == "市による廃止"
