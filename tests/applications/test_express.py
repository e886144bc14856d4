"""Express issuance through the counter on PostgreSQL (R-EXP-1…4): the window, the fee, the
photo-less card of a child under one, and the posted / delivered / returned end."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import User
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    ExpressReason,
    IdentityDocument,
)
from apps.applications.selectors import uncollected_cards
from apps.applications.services import HandoverInput, application_hand_over, application_pay
from apps.applications.services_express import (
    application_express_delivered,
    application_express_posted,
    application_express_returned,
)
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.fees.rules import FeeRow, ReissueReason
from apps.residents.models import Resident
from tests.applications.helpers import LICENSE, receive
from tests.custody.helpers import ready_to_hand_over

ON = date(2026, 11, 27)
LOST_ON = ON - timedelta(days=30)


@pytest.fixture
def holder(make_resident: Any, make_card: Any, office_a: Any) -> Resident:
    resident: Resident = make_resident(office_a)
    make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    return resident


def _lost_express(
    clerk: User, resident: Resident, *, event_on: date = LOST_ON, **extra: Any
) -> Any:
    return receive(
        clerk,
        resident,
        ApplicationKind.REISSUE,
        on=ON,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第123号",
        express=True,
        express_reason=ExpressReason.CARD_LOST,
        express_event_on=event_on,
        **extra,
    )


def test_r_exp_2_lost_card_express_costs_2000(clerk_a: User, holder: Resident) -> None:
    """R-EXP-2: where the loss reissue costs 1,000 yen, express costs 2,000."""
    application = _lost_express(clerk_a, holder)
    assert application.express
    assert application.fee_row == FeeRow.EXPRESS_WITH_CERTS
    assert application.fee_amount_yen == 2000
    assert application.state == ApplicationState.RECEIVED


def test_r_exp_2_without_certificates_1800(clerk_a: User, holder: Resident) -> None:
    """R-EXP-2: 1,800 yen without certificates."""
    application = _lost_express(clerk_a, holder, with_certificates=False)
    assert application.fee_amount_yen == 1800


def test_r_exp_1_day_31_after_the_loss_is_refused_and_nothing_changes(
    clerk_a: User, holder: Resident
) -> None:
    with pytest.raises(ValidationError) as caught:
        _lost_express(clerk_a, holder, event_on=LOST_ON - timedelta(days=1))
    assert "30日を過ぎた" in str(caught.value.message_dict["express_event_on"])
    card = Card.objects.get(resident=holder)
    assert card.state == CardState.ACTIVE  # the loss was not recorded either


def test_r_exp_4_under_one_is_photo_less_and_free(
    clerk_a: User, make_resident: Any, office_a: Any
) -> None:
    """R-EXP-4 (photo-less), R-EXP-1 (under one), R-EXP-2 (free as its ordinary case)."""
    baby = make_resident(office_a, birth_date=ON - timedelta(days=100), given_name_kana="タロウ")
    application = receive(
        clerk_a,
        baby,
        ApplicationKind.FIRST_ISSUE,
        on=ON,
        applicant_type=ApplicantType.LEGAL_REP,
        applicant_name="山田 一郎",
        documents=frozenset({*LICENSE, IdentityDocument.LEGAL_REP_PROOF}),
        express=True,
        express_reason=ExpressReason.UNDER_ONE,
    )
    assert application.fee_amount_yen == 0
    assert application.state == ApplicationState.ORDERED
    assert application.express_event_on == baby.birth_date
    assert application.new_card is not None
    assert application.new_card.photo_less


def test_r_exp_3_posted_then_delivered(clerk_a: User, holder: Resident) -> None:
    """R-EXP-3: no counter handover; posted, then delivered (the card is in use)."""
    application = _lost_express(clerk_a, holder)
    application_pay(acting_user=clerk_a, application=application, on=ON, idempotency_key="k1")
    application.refresh_from_db()
    assert application.state == ApplicationState.ORDERED
    with pytest.raises(ValidationError):
        application_express_delivered(acting_user=clerk_a, application=application, delivered_on=ON)
    application = application_express_posted(
        acting_user=clerk_a, application=application, issued_on=ON, posted_on=ON
    )
    assert application.state == ApplicationState.POSTED
    posted = Card.objects.get(application=application)
    # In the post: not in the city's stock (no pickup notice, not uncollected), dates known.
    assert posted.state == CardState.ORDERED
    assert posted.issued_on == ON
    assert posted.expires_on is not None
    waiting = uncollected_cards(user=clerk_a, today=ON, params={})
    assert posted.pk not in {row.card.pk for row in waiting.rows}
    application = application_express_delivered(
        acting_user=clerk_a, application=application, delivered_on=ON
    )
    assert application.state == ApplicationState.DELIVERED
    assert application.new_card_id is not None
    assert application.old_card_id is not None
    new_card = Card.objects.get(pk=application.new_card_id)
    assert new_card.state == CardState.ACTIVE
    old_card = Card.objects.get(pk=application.old_card_id)
    assert old_card.state == CardState.VOID  # lost at receipt, cancelled at delivery


def test_r_exp_3_returned_undelivered_is_collected_at_the_counter(
    clerk_a: User, holder: Resident
) -> None:
    """R-EXP-3: a letter that came back leaves the card at the city, handed over there."""
    application = _lost_express(clerk_a, holder)
    application_pay(acting_user=clerk_a, application=application, on=ON, idempotency_key="k2")
    application.refresh_from_db()
    application_express_posted(
        acting_user=clerk_a, application=application, issued_on=ON, posted_on=ON
    )
    application = application_express_returned(
        acting_user=clerk_a, application=application, returned_on=ON
    )
    assert application.state == ApplicationState.RETURNED_UNDELIVERED
    assert application.is_open
    assert Card.objects.get(application=application).state == CardState.ARRIVED  # at the city
    ready_to_hand_over(clerk_a, application)  # the handover interlock, as for any card (R-HND)
    application = application_hand_over(
        acting_user=clerk_a,
        application=application,
        # The city sent no pickup notice for a card J-LIS posted: the extra check instead.
        data=HandoverInput(documents=LICENSE, pins_set=True, extra_identity_check=True),
        on=ON,
    )
    assert application.state == ApplicationState.HANDED_OVER


def test_r_exp_3_ordinary_application_is_not_posted(clerk_a: User, holder: Resident) -> None:
    application = receive(
        clerk_a,
        holder,
        ApplicationKind.REISSUE,
        on=ON,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第1号",
    )
    application_pay(acting_user=clerk_a, application=application, on=ON, idempotency_key="k3")
    application.refresh_from_db()
    with pytest.raises(ValidationError, match="特急発行の申請ではありません"):
        application_express_posted(
            acting_user=clerk_a, application=application, issued_on=ON, posted_on=ON
        )
