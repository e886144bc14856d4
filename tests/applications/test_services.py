"""Tests of the application services on PostgreSQL: receipt, evidence (R-REI-1), the R-REI
table through the counter, the old card (R-REI-2, R-REI-4, R-CRT-5), ordering, payment,
waivers (R-REI-3), handover (R-ISS-2, R-ISS-3, R-PIN-3) and cancellation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    IdentityDocument,
    NotificationCardStatus,
)
from apps.applications.services import (
    HandoverInput,
    application_cancel,
    application_hand_over,
    application_pay,
    application_waiver_approve,
    fee_settled,
)
from apps.cards.models import Card
from apps.cards.rules import CardState, card_expiry
from apps.certificates.models import Certificate, CertificateState, PinState
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from apps.fees.models import FeeWaiver, Payment
from apps.fees.rules import FeeRow, ReissueReason
from apps.fees.services import payment_void
from tests.actors import FIXTURES
from tests.applications.helpers import LICENSE, arrive, birthday_card_dates, receive
from tests.custody.helpers import ready_to_hand_over

K = ApplicationKind
R = ReissueReason
S = ApplicationState
ON = date(2026, 11, 27)
HANDOVER = HandoverInput(
    documents=LICENSE,
    pins_set=True,
    notification_card=NotificationCardStatus.RETURNED,
    extra_identity_check=True,
    old_card_returned=True,
)


@pytest.fixture
def holder(make_resident: Any, office_a: Any) -> Any:
    return make_resident(office_a)


@pytest.fixture
def holder_card(make_card: Any, holder: Any) -> Card:
    card: Card = make_card(holder)
    assert card.issued_on is not None
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="abc123",
        issued_on=card.issued_on,
    )
    return card


def _counts() -> tuple[int, int, int, int]:
    return (
        Application.objects.count(),
        Card.objects.count(),
        Payment.objects.count(),
        FeeWaiver.objects.count(),
    )


# --- first issue ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_r_iss_1_first_issue_free_is_ordered_at_once(clerk_a: User, holder: Any) -> None:
    """R-ISS-1 / R-REI table (first issue, 0 yen): nothing is owed, so the card is ordered."""
    application = receive(clerk_a, holder, K.FIRST_ISSUE, on=ON)
    assert application.state == S.ORDERED
    assert (application.fee_row, application.fee_amount_yen) == (FeeRow.FIRST_ISSUE_FREE, 0)
    assert application.new_card is not None
    assert application.new_card.state == CardState.ORDERED
    assert application.new_card.applied_on == ON
    assert application.counter_id == clerk_a.counter_id
    assert application.received_by == clerk_a


@pytest.mark.django_db
def test_first_issue_refused_when_a_card_exists(
    clerk_a: User, holder: Any, holder_card: Card
) -> None:
    before = _counts()
    with pytest.raises(ValidationError, match="更新または再交付"):
        receive(clerk_a, holder, K.FIRST_ISSUE, on=ON)
    assert _counts() == before


@pytest.mark.django_db
def test_one_open_card_application_per_resident(clerk_a: User, holder: Any) -> None:
    receive(clerk_a, holder, K.FIRST_ISSUE, on=ON)
    with pytest.raises(ValidationError, match="作成中または交付待ち"):
        receive(clerk_a, holder, K.FIRST_ISSUE, on=ON)
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_r_iss_2_under_15_the_legal_representative_applies(
    clerk_a: User, make_resident: Any, office_a: Any
) -> None:
    """R-ISS-2: the holder under 15 cannot apply; the legal representative can."""
    child = make_resident(office_a, birth_date=date(2016, 1, 1))
    with pytest.raises(ValidationError) as refused:
        receive(clerk_a, child, K.FIRST_ISSUE, on=ON)
    assert "法定代理人が行います" in str(refused.value.message_dict["applicant_type"])
    application = receive(
        clerk_a,
        child,
        K.FIRST_ISSUE,
        on=ON,
        applicant_type=ApplicantType.LEGAL_REP,
        applicant_name="山田 太郎",
        documents=frozenset({IdentityDocument.DRIVERS_LICENSE, IdentityDocument.LEGAL_REP_PROOF}),
    )
    assert application.applicant_type == ApplicantType.LEGAL_REP


@pytest.mark.django_db
def test_identity_documents_and_proxy_name_are_checked(clerk_a: User, holder: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        receive(
            clerk_a,
            holder,
            K.FIRST_ISSUE,
            on=ON,
            documents=frozenset(),
            applicant_type=ApplicantType.PROXY,
        )
    errors = refused.value.message_dict
    assert "本人確認書類が不足" in errors["documents"][0]
    assert "委任状" in errors["documents"][0]
    assert "applicant_name" in errors
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_staff_of_another_office_cannot_receive(clerk_b: User, holder: Any) -> None:
    with pytest.raises(PermissionDenied):
        receive(clerk_b, holder, K.FIRST_ISSUE, on=ON)


# --- reissue: R-REI-1 evidence and every R-REI row -----------------------------------------------

EVIDENCE_CASES = [
    # (reason, fields that satisfy it, the field that is required)
    (R.LOST, {"police_report_no": "第123号"}, "police_report_no"),
    (R.STOLEN, {"police_report_no": "第124号"}, "police_report_no"),
    (R.DISASTER, {"disaster_certificate_no": "罹災第5号"}, "disaster_certificate_no"),
    (R.DAMAGED, {"damaged_card_surrendered": True}, "damaged_card_surrendered"),
    (R.NOT_HOLDER_FAULT, {"waiver_reason": "IC不良"}, "waiver_reason"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("reason", "fields", "required"), EVIDENCE_CASES)
def test_r_rei_1_reissue_refused_without_its_evidence(
    clerk_a: User, holder: Any, holder_card: Card, reason: Any, fields: Any, required: str
) -> None:
    """R-REI-1: police report for loss/theft, disaster certificate, damaged card surrendered
    (and R-REI-3: the waiver reason). Refused, nothing written, the old card untouched."""
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        receive(clerk_a, holder, K.REISSUE, on=ON, reissue_reason=reason)
    assert required in refused.value.message_dict
    assert _counts() == before
    holder_card.refresh_from_db()
    assert holder_card.state == CardState.ACTIVE
    # With it, the application is received.
    application = receive(clerk_a, holder, K.REISSUE, on=ON, reissue_reason=reason, **fields)
    assert application.reissue_reason == reason


@pytest.mark.django_db
def test_r_rei_1_no_police_report_when_lost_at_home(
    clerk_a: User, holder: Any, holder_card: Card
) -> None:
    """R-REI-1: lost inside the home needs no police report; theft always does."""
    application = receive(
        clerk_a, holder, K.REISSUE, on=ON, reissue_reason=R.LOST, lost_at_home=True
    )
    assert application.lost_at_home
    assert application.police_report_no == ""
    assert application.fee_amount_yen == 1000


@pytest.mark.django_db
def test_r_rei_1_theft_is_never_at_home(clerk_a: User, holder: Any, holder_card: Card) -> None:
    with pytest.raises(ValidationError, match="紛失の場合のみ"):
        receive(
            clerk_a,
            holder,
            K.REISSUE,
            on=ON,
            reissue_reason=R.STOLEN,
            lost_at_home=True,
            police_report_no="1",
        )


REISSUE_ROWS = [
    # (reason, extra fields, with_certificates, row, yen, state after receipt, old card state)
    (
        R.LOST,
        {"police_report_no": "1"},
        True,
        FeeRow.REISSUE_LOSS_WITH_CERTS,
        1000,
        S.RECEIVED,
        CardState.LOST,
    ),
    (
        R.STOLEN,
        {"police_report_no": "1"},
        False,
        FeeRow.REISSUE_LOSS_NO_CERTS,
        800,
        S.RECEIVED,
        CardState.LOST,
    ),
    (
        R.DAMAGED,
        {"damaged_card_surrendered": True},
        True,
        FeeRow.REISSUE_DAMAGE_WITH_CERTS,
        1000,
        S.RECEIVED,
        CardState.RETURNED,
    ),
    (
        R.DAMAGED,
        {"damaged_card_surrendered": True},
        False,
        FeeRow.REISSUE_DAMAGE_NO_CERTS,
        800,
        S.RECEIVED,
        CardState.RETURNED,
    ),
    (
        R.ENDORSEMENT_FULL,
        {},
        True,
        FeeRow.REISSUE_ENDORSEMENT_FULL,
        0,
        S.ORDERED,
        CardState.ACTIVE,
    ),
    (
        R.DISASTER,
        {"disaster_certificate_no": "第9号", "old_card_returned": False},
        True,
        FeeRow.REISSUE_DISASTER,
        0,
        S.ORDERED,
        CardState.LOST,
    ),
    (
        R.NOT_HOLDER_FAULT,
        {"waiver_reason": "カード不良"},
        True,
        FeeRow.REISSUE_NOT_HOLDER_FAULT,
        0,
        S.RECEIVED,
        CardState.ACTIVE,
    ),
    (
        R.NUMBER_CHANGED,
        {},
        True,
        FeeRow.REISSUE_NUMBER_CHANGED,
        0,
        S.ORDERED,
        CardState.ACTIVE,
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "fields", "certs", "row", "yen", "state", "old_state"), REISSUE_ROWS
)
def test_r_rei_table_reissue_rows_at_the_counter(
    clerk_a: User,
    holder: Any,
    holder_card: Card,
    reason: Any,
    fields: Any,
    certs: bool,
    row: FeeRow,
    yen: int,
    state: Any,
    old_state: Any,
) -> None:
    """R-REI table, every reissue row: the fee quoted at the counter, when the card is ordered
    (free rows at once, paid rows after payment, the waiver after approval), and the old card
    (R-REI-1 surrendered, R-REI-4 lost stays unusable, others kept until the handover)."""
    application = receive(
        clerk_a, holder, K.REISSUE, on=ON, reissue_reason=reason, with_certificates=certs, **fields
    )
    assert (application.fee_row, application.fee_amount_yen) == (row, yen)
    assert application.fee_rule == row.rule
    assert application.state == state
    holder_card.refresh_from_db()
    assert holder_card.state == old_state
    if old_state != CardState.ACTIVE:
        # R-CRT-5: the certificates end with the card.
        assert not Certificate.objects.filter(
            card=holder_card, state=CertificateState.ACTIVE
        ).exists()


@pytest.mark.django_db
def test_reissue_of_an_expired_card_is_a_renewal(
    clerk_a: User, make_resident: Any, office_a: Any, make_card: Any
) -> None:
    dates = birthday_card_dates(ON - timedelta(days=10))
    resident = make_resident(office_a, birth_date=dates["birth_date"])
    make_card(resident, applied_on=dates["applied_on"], issued_on=dates["issued_on"])
    with pytest.raises(ValidationError, match="更新の手続"):
        receive(clerk_a, resident, K.REISSUE, on=ON, reissue_reason=R.LOST, police_report_no="1")


@pytest.mark.django_db
def test_reissue_needs_a_card(clerk_a: User, holder: Any) -> None:
    with pytest.raises(ValidationError, match="新規交付"):
        receive(clerk_a, holder, K.REISSUE, on=ON, reissue_reason=R.NUMBER_CHANGED)


# --- renewal and R-REI-2 -------------------------------------------------------------------------


@pytest.fixture
def expiring(make_resident: Any, office_a: Any, make_card: Any) -> tuple[Any, Card]:
    """A holder whose card expires 30 days after ON (inside the renewal window, R-NOT-1)."""
    dates = birthday_card_dates(ON + timedelta(days=30))
    resident = make_resident(office_a, birth_date=dates["birth_date"])
    card = make_card(resident, applied_on=dates["applied_on"], issued_on=dates["issued_on"])
    assert card.expires_on == ON + timedelta(days=30)
    return resident, card


@pytest.mark.django_db
def test_r_rei_renewal_with_the_old_card_is_free(clerk_a: User, expiring: Any) -> None:
    """R-REI table: renewal with < 3 months left, old card returned: free, ordered at once;
    the old card stays in use until the handover (R-REI-2)."""
    resident, card = expiring
    application = receive(clerk_a, resident, K.RENEWAL, on=ON)
    assert (application.fee_row, application.fee_amount_yen) == (FeeRow.RENEWAL_FREE, 0)
    assert application.state == S.ORDERED
    assert application.old_card == card
    card.refresh_from_db()
    assert card.state == CardState.ACTIVE


@pytest.mark.django_db
def test_r_rei_renewal_after_expiry_is_free(
    clerk_a: User, make_resident: Any, office_a: Any, make_card: Any
) -> None:
    """R-REI table: renewal also after the card expired."""
    dates = birthday_card_dates(ON - timedelta(days=200))
    resident = make_resident(office_a, birth_date=dates["birth_date"])
    make_card(resident, applied_on=dates["applied_on"], issued_on=dates["issued_on"])
    application = receive(clerk_a, resident, K.RENEWAL, on=ON)
    assert application.fee_amount_yen == 0


@pytest.mark.django_db
def test_renewal_before_the_window_is_refused(
    clerk_a: User, holder: Any, holder_card: Card
) -> None:
    """R-NOT-1: renewal opens the day after expiry minus 3 months."""
    with pytest.raises(ValidationError, match=r"更新の申請は.*から受け付けます"):
        receive(clerk_a, holder, K.RENEWAL, on=ON)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("certs", "row", "yen"),
    [
        (True, FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS, 1000),
        (False, FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS, 800),
    ],
)
def test_r_rei_2_lost_old_card_turns_renewal_into_a_paid_reissue(
    clerk_a: User, expiring: Any, certs: bool, row: FeeRow, yen: int
) -> None:
    """R-REI-2 / R-REI table: the old card not returned (lost): charged as a reissue; the
    police report is asked for as for any loss (R-REI-1); the old card is recorded lost."""
    resident, card = expiring
    with pytest.raises(ValidationError) as refused:
        receive(
            clerk_a, resident, K.RENEWAL, on=ON, old_card_returned=False, with_certificates=certs
        )
    assert "police_report_no" in refused.value.message_dict
    application = receive(
        clerk_a,
        resident,
        K.RENEWAL,
        on=ON,
        old_card_returned=False,
        with_certificates=certs,
        police_report_no="第77号",
    )
    assert (application.fee_row, application.fee_amount_yen) == (row, yen)
    assert application.state == S.RECEIVED
    card.refresh_from_db()
    assert card.state == CardState.LOST


# --- payment, ordering, arrival, handover --------------------------------------------------------


@pytest.mark.django_db
def test_reissue_after_loss_full_pipeline(clerk_a: User, holder: Any, holder_card: Card) -> None:
    """R-ISS-1 end to end: received → paid (receipt) → ordered → arrived (expiry from
    card_expiry) → handed over; the lost card is voided at the handover (R-SUS-2)."""
    application = receive(
        clerk_a, holder, K.REISSUE, on=ON, reissue_reason=R.LOST, police_report_no="第1号"
    )
    assert not fee_settled(application)
    payment = application_pay(acting_user=clerk_a, application=application, on=ON).payment
    assert (payment.amount_yen, payment.receipt_number, payment.fee_row) == (
        1000,
        1,
        FeeRow.REISSUE_LOSS_WITH_CERTS,
    )
    application.refresh_from_db()
    assert application.state == S.ORDERED
    assert application.payment == payment
    with pytest.raises(ValidationError, match="領収済"):
        application_pay(acting_user=clerk_a, application=application, on=ON)

    issued = ON + timedelta(days=30)
    arrive(clerk_a, application, issued_on=issued, arrived_on=issued + timedelta(days=3))
    application.refresh_from_db()
    new_card = application.new_card
    assert application.state == S.ARRIVED
    assert new_card is not None
    assert new_card.expires_on == card_expiry(
        birth_date=holder.birth_date, issued_on=issued, applied_on=ON
    )
    ready_to_hand_over(clerk_a, application)  # R-HND-1…5
    handed = application_hand_over(
        acting_user=clerk_a, application=application, data=HANDOVER, on=issued + timedelta(days=5)
    )
    assert handed.state == S.HANDED_OVER
    new_card.refresh_from_db()
    holder_card.refresh_from_db()
    assert new_card.state == CardState.ACTIVE
    assert holder_card.state == CardState.VOID  # R-SUS-2: can never be un-suspended
    # PINs: lock state only, full tries; nothing else (R-PIN-3).
    assert PinState.objects.filter(card=new_card).count() == 4


@pytest.mark.django_db
def test_r_rei_2_renewal_handover_only_after_the_old_card_is_returned(
    clerk_a: User, expiring: Any
) -> None:
    """R-REI-2: the new card is handed over only after the old card is returned."""
    resident, old_card = expiring
    application = receive(clerk_a, resident, K.RENEWAL, on=ON)
    arrive(clerk_a, application, issued_on=ON + timedelta(days=20))
    application.refresh_from_db()
    later = ON + timedelta(days=25)
    not_returned = HandoverInput(documents=LICENSE, pins_set=True, old_card_returned=False)
    with pytest.raises(ValidationError) as refused:
        application_hand_over(
            acting_user=clerk_a, application=application, data=not_returned, on=later
        )
    assert "旧カードの返納を受けてから" in " ".join(refused.value.messages)
    old_card.refresh_from_db()
    assert old_card.state == CardState.ACTIVE
    assert Application.objects.get(pk=application.pk).state == S.ARRIVED

    ready_to_hand_over(clerk_a, application)  # R-HND-1…5
    done = application_hand_over(
        acting_user=clerk_a, application=application, data=HANDOVER, on=later
    )
    assert done.old_card_returned_at_handover
    old_card.refresh_from_db()
    assert old_card.state == CardState.RETURNED
    assert done.new_card_id is not None
    assert Card.objects.get(pk=done.new_card_id).state == CardState.ACTIVE


@pytest.mark.django_db
def test_r_iss_3_first_issue_handover_records_the_notification_card(
    clerk_a: User, holder: Any
) -> None:
    """R-ISS-3: the notification card is returned when the card is handed over."""
    application = receive(clerk_a, holder, K.FIRST_ISSUE, on=ON)
    arrive(clerk_a, application, issued_on=ON + timedelta(days=10))
    application.refresh_from_db()
    missing = HandoverInput(documents=LICENSE, pins_set=True, notification_card=None)
    with pytest.raises(ValidationError, match="通知カードの返納"):
        application_hand_over(
            acting_user=clerk_a, application=application, data=missing, on=ON + timedelta(days=12)
        )
    ready_to_hand_over(clerk_a, application)  # R-HND-1…5
    done = application_hand_over(
        acting_user=clerk_a, application=application, data=HANDOVER, on=ON + timedelta(days=12)
    )
    assert done.notification_card == NotificationCardStatus.RETURNED
    assert done.pins_set
    assert done.handover_documents == [IdentityDocument.DRIVERS_LICENSE]


@pytest.mark.django_db
def test_r_iss_2_under_15_handover_needs_the_legal_representative(
    clerk_a: User, make_resident: Any, office_a: Any
) -> None:
    """R-ISS-2: the legal representative must come to the handover."""
    child = make_resident(office_a, birth_date=date(2016, 1, 1))
    application = receive(
        clerk_a,
        child,
        K.FIRST_ISSUE,
        on=ON,
        applicant_type=ApplicantType.LEGAL_REP,
        applicant_name="山田 太郎",
        documents=frozenset({IdentityDocument.PASSPORT, IdentityDocument.LEGAL_REP_PROOF}),
    )
    arrive(clerk_a, application, issued_on=ON + timedelta(days=10))
    application.refresh_from_db()
    day = ON + timedelta(days=11)
    with pytest.raises(ValidationError, match="法定代理人"):
        application_hand_over(acting_user=clerk_a, application=application, data=HANDOVER, on=day)
    with_rep = HandoverInput(
        documents=frozenset({IdentityDocument.PASSPORT, IdentityDocument.LEGAL_REP_PROOF}),
        applicant_type=ApplicantType.LEGAL_REP,
        pins_set=True,
        legal_rep_present=True,
        notification_card=NotificationCardStatus.NEVER_HELD,
        extra_identity_check=True,
    )
    ready_to_hand_over(clerk_a, application)  # R-HND-1…5
    done = application_hand_over(
        acting_user=clerk_a, application=application, data=with_rep, on=day
    )
    assert done.legal_rep_present


@pytest.mark.django_db
def test_handover_needs_an_arrived_card(clerk_a: User, holder: Any) -> None:
    application = receive(clerk_a, holder, K.FIRST_ISSUE, on=ON)
    with pytest.raises(ValidationError, match="交付済"):
        application_hand_over(acting_user=clerk_a, application=application, data=HANDOVER, on=ON)


# --- waiver, void, cancel, history ---------------------------------------------------------------


@pytest.mark.django_db
def test_r_rei_3_waiver_needs_approval_before_the_order(
    clerk_a: User, supervisor_a: User, holder: Any, holder_card: Card
) -> None:
    """R-REI-3: "not due to the holder" is free only with the reason and a supervisor's OK."""
    application = receive(
        clerk_a, holder, K.REISSUE, on=ON, reissue_reason=R.NOT_HOLDER_FAULT, waiver_reason="IC不良"
    )
    assert application.state == S.RECEIVED
    assert not fee_settled(application)
    assert application.waiver is not None
    assert application.waiver.reason == "IC不良"
    with pytest.raises(PermissionDenied):
        application_waiver_approve(acting_user=clerk_a, application=application)
    approved = application_waiver_approve(acting_user=supervisor_a, application=application)
    assert approved.state == S.ORDERED
    assert application.waiver_id is not None
    waiver = FeeWaiver.objects.get(pk=application.waiver_id)
    assert waiver.approved_by == supervisor_a
    assert waiver.requested_by == clerk_a


@pytest.mark.django_db
def test_cancel_after_payment_needs_the_void_first(
    clerk_a: User, supervisor_a: User, holder: Any, holder_card: Card
) -> None:
    application = receive(
        clerk_a, holder, K.REISSUE, on=ON, reissue_reason=R.STOLEN, police_report_no="1"
    )
    payment = application_pay(acting_user=clerk_a, application=application, on=ON).payment
    with pytest.raises(ValidationError, match="領収を取り消して"):
        application_cancel(acting_user=clerk_a, application=application, reason="本人の申出")
    payment_void(acting_user=supervisor_a, payment=payment, reason="申請取下げ")
    cancelled = application_cancel(
        acting_user=clerk_a, application=application, reason="本人の申出"
    )
    assert cancelled.state == S.CANCELLED
    assert cancelled.new_card_id is not None
    new_card = Card.objects.get(pk=cancelled.new_card_id)
    assert new_card.state == CardState.VOID
    holder_card.refresh_from_db()
    assert holder_card.state == CardState.LOST  # the loss was real


@pytest.mark.django_db
def test_every_step_leaves_a_history_row(clerk_a: User, holder: Any, holder_card: Card) -> None:
    application = receive(
        clerk_a, holder, K.REISSUE, on=ON, reissue_reason=R.LOST, police_report_no="1"
    )
    application_pay(acting_user=clerk_a, application=application, on=ON)
    events = apps.get_model("applications", "ApplicationEvent").objects.filter(
        pgh_obj_id=application.pk
    )
    states = list(events.order_by("pgh_id").values_list("state", flat=True))
    assert states[0] == S.RECEIVED
    assert states[-1] == S.ORDERED
    assert len(states) >= 3  # insert, payment recorded, ordered
