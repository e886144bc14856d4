"""Voiding a receipt says what happens to its application (R-REI-3: no card without its fee),
and the day's close follows: a closed day is reopened by a supervisor, with a reason, so the
correction is made the same day.

Before this, a void left the card on order with no valid payment and the close could not be
corrected.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import ProgrammingError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Counter, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState, NotificationCardStatus
from apps.applications.services import (
    HandoverInput,
    application_hand_over,
    application_pay,
    application_payment_void,
    fee_settled,
)
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.fees.models import DailyClose, Payment, PaymentVoid
from apps.fees.rules import CORRECTION_DAYS, ReissueReason, VoidOutcome
from apps.fees.services import close_totals, daily_close_record, daily_close_reopen
from tests.applications.helpers import LICENSE, arrive, receive
from tests.custody.helpers import ready_to_hand_over

ON = date(2026, 11, 27)
S = ApplicationState
HANDOVER = HandoverInput(
    documents=LICENSE,
    pins_set=True,
    notification_card=NotificationCardStatus.RETURNED,
    extra_identity_check=True,
    old_card_returned=True,
)


@pytest.fixture
def paid(clerk_a: User, make_resident: Any, office_a: Any, make_card: Any) -> Application:
    """A reissue after loss, 1,000 yen paid in cash, its card on order with J-LIS."""
    resident = make_resident(office_a)
    make_card(resident)
    application = receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        on=ON,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第7号",
    )
    application_pay(acting_user=clerk_a, application=application, on=ON, idempotency_key="p1")
    application.refresh_from_db()
    assert application.state == S.ORDERED
    return application


def _void(user: User, application: Application, outcome: VoidOutcome) -> PaymentVoid:
    payment = Payment.objects.get(application=application, voided=False)
    return application_payment_void(
        acting_user=user, payment=payment, reason="支払方法の誤り", outcome=outcome, on=ON
    )


@pytest.mark.django_db
def test_void_back_to_awaiting_payment_cancels_the_card_being_made(
    paid: Application, clerk_a: User, supervisor_a: User
) -> None:
    """R-REI-3: the card still being made is cancelled; paying again orders a new one."""
    first_card = paid.new_card_id
    assert first_card is not None
    void = _void(supervisor_a, paid, VoidOutcome.AWAIT_PAYMENT)
    assert void.outcome == VoidOutcome.AWAIT_PAYMENT
    application = Application.objects.get(pk=paid.pk)
    assert application.state == S.RECEIVED
    assert application.new_card_id is None
    assert not fee_settled(application)
    assert Card.objects.get(pk=first_card).state == CardState.VOID
    again = application_pay(
        acting_user=clerk_a, application=application, on=ON, idempotency_key="p2"
    )
    assert again.payment.receipt_number == 2  # the voided number stays used
    application.refresh_from_db()
    assert application.state == S.ORDERED
    assert application.new_card_id not in (None, first_card)
    assert Card.objects.get(pk=application.new_card_id).state == CardState.ORDERED


@pytest.mark.django_db
def test_void_back_to_awaiting_payment_holds_an_arrived_card(
    paid: Application, clerk_a: User, supervisor_a: User
) -> None:
    """An arrived card is held: no handover until the fee is settled again."""
    arrive(clerk_a, paid, issued_on=ON, on=ON)
    _void(supervisor_a, paid, VoidOutcome.AWAIT_PAYMENT)
    application = Application.objects.get(pk=paid.pk)
    assert application.state == S.ARRIVED
    assert application.new_card is not None
    assert application.new_card.state == CardState.ARRIVED
    with pytest.raises(ValidationError, match="手数料の領収"):
        application_hand_over(acting_user=clerk_a, application=application, data=HANDOVER, on=ON)
    application_pay(acting_user=clerk_a, application=application, on=ON, idempotency_key="p2")
    ready_to_hand_over(clerk_a, application)  # R-HND-1…5
    handed = application_hand_over(
        acting_user=clerk_a, application=application, data=HANDOVER, on=ON
    )
    assert handed.state == S.HANDED_OVER


@pytest.mark.django_db
def test_void_with_refund_withdraws_the_application(paid: Application, supervisor_a: User) -> None:
    _void(supervisor_a, paid, VoidOutcome.REFUND_CANCEL)
    application = Application.objects.get(pk=paid.pk)
    assert application.state == S.CANCELLED
    assert application.cancelled_by == supervisor_a
    assert "返金" in application.cancel_reason
    assert application.new_card is not None
    assert Card.objects.get(pk=application.new_card.pk).state == CardState.VOID


@pytest.mark.django_db
def test_only_a_supervisor_voids_and_a_handed_over_fee_stays(
    paid: Application, clerk_a: User, supervisor_a: User
) -> None:
    with pytest.raises(PermissionDenied):
        _void(clerk_a, paid, VoidOutcome.REFUND_CANCEL)
    arrive(clerk_a, paid, issued_on=ON, on=ON)
    ready_to_hand_over(clerk_a, paid)  # R-HND-1…5
    application_hand_over(acting_user=clerk_a, application=paid, data=HANDOVER, on=ON)
    with pytest.raises(ValidationError, match="交付済"):
        _void(supervisor_a, paid, VoidOutcome.AWAIT_PAYMENT)
    assert not PaymentVoid.objects.exists()


@pytest.mark.django_db
def test_a_closed_day_is_reopened_to_void_and_the_close_follows(
    paid: Application, clerk_a: User, supervisor_a: User, counter_a: Counter
) -> None:
    """The void counts in its day's close; a closed day needs the close reopened first."""
    first = daily_close_record(
        acting_user=clerk_a, counter=counter_a, business_date=ON, counted_cash_yen=1000, today=ON
    )
    assert first.expected_cash_yen == 1000
    with pytest.raises(ValidationError, match="日計を再開してから"):
        _void(supervisor_a, paid, VoidOutcome.REFUND_CANCEL)
    with pytest.raises(PermissionDenied):
        daily_close_reopen(acting_user=clerk_a, close=first, reason="訂正", today=ON)
    with pytest.raises(ValidationError, match="理由"):
        daily_close_reopen(acting_user=supervisor_a, close=first, reason=" ", today=ON)
    reopened = daily_close_reopen(
        acting_user=supervisor_a, close=first, reason="支払方法の誤りを訂正", today=ON
    )
    assert (reopened.reopened_by, reopened.reopen_reason) == (supervisor_a, "支払方法の誤りを訂正")
    with pytest.raises(ValidationError, match="既に再開"):
        daily_close_reopen(acting_user=supervisor_a, close=first, reason="再度", today=ON)

    _void(supervisor_a, paid, VoidOutcome.REFUND_CANCEL)
    totals = close_totals(counter=counter_a, business_date=ON)
    assert (totals.cash_total_yen, totals.voided_count, totals.voided_total_yen) == (0, 1, 1000)
    assert totals.voids[0].outcome_label == VoidOutcome.REFUND_CANCEL.short_label
    second = daily_close_record(
        acting_user=clerk_a, counter=counter_a, business_date=ON, counted_cash_yen=0, today=ON
    )
    assert (second.expected_cash_yen, second.voided_count, second.voided_total_yen) == (0, 1, 1000)
    closes = DailyClose.objects.filter(counter=counter_a, business_date=ON)
    assert closes.count() == 2
    assert closes.filter(reopened_at__isnull=True).get() == second
    # The history of the close records the reopening and who did it.
    events = apps.get_model("fees", "DailyCloseEvent").objects.filter(pgh_obj_id=reopened.pk)
    assert events.filter(pgh_label="update", reopen_reason="支払方法の誤りを訂正").exists()


@pytest.mark.django_db
def test_a_close_outside_the_correction_window_stays_closed(
    paid: Application, clerk_a: User, supervisor_a: User, counter_a: Counter
) -> None:
    closed = daily_close_record(
        acting_user=clerk_a, counter=counter_a, business_date=ON, counted_cash_yen=1000, today=ON
    )
    later = ON + timedelta(days=CORRECTION_DAYS + 1)
    with pytest.raises(ValidationError, match="日前まで"):
        daily_close_reopen(acting_user=supervisor_a, close=closed, reason="訂正", today=later)


@pytest.mark.django_db
def test_the_database_keeps_a_close_and_its_reopening_once(
    paid: Application, clerk_a: User, supervisor_a: User, counter_a: Counter
) -> None:
    closed = daily_close_record(
        acting_user=clerk_a, counter=counter_a, business_date=ON, counted_cash_yen=1000, today=ON
    )
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        DailyClose.objects.filter(pk=closed.pk).update(counted_cash_yen=0)
    with pytest.raises(ProgrammingError, match="Cannot delete"), transaction.atomic():
        DailyClose.objects.filter(pk=closed.pk)._raw_delete(DailyClose.objects.db)
    daily_close_reopen(acting_user=supervisor_a, close=closed, reason="訂正", today=ON)
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        DailyClose.objects.filter(pk=closed.pk).update(reopened_at=None, reopen_reason="")


# --- the screens ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_void_screen_asks_the_supervisor_what_happens_to_the_application(
    paid: Application, supervisor_a: User, clerk_a: User, client_for: Any
) -> None:
    payment = Payment.objects.get(application=paid)
    url = reverse("applications:payment_void", args=[payment.pk])
    assert client_for(clerk_a).get(url).status_code == 403
    client = client_for(supervisor_a)
    page = client.get(url).content.decode()
    for outcome in VoidOutcome:
        assert f'value="{outcome.value}"' in page
        assert outcome.label in page
    missing = client.post(url, {"reason": "支払方法の誤り"})
    assert missing.status_code == 400
    assert "取消後の申請の扱いを選んでください" in missing.content.decode()
    assert not PaymentVoid.objects.exists()
    done = client.post(url, {"reason": "支払方法の誤り", "outcome": "await_payment"})
    assert done.status_code == 302
    assert done["Location"] == reverse("applications:detail", args=[paid.pk])
    assert Application.objects.get(pk=paid.pk).state == S.RECEIVED
    detail = client.get(done["Location"]).content.decode()
    assert "取消済" in detail
    assert VoidOutcome.AWAIT_PAYMENT.label in detail


@pytest.mark.django_db
def test_reopen_screen_for_supervisors_with_a_reason(
    clerk_a: User, supervisor_a: User, counter_a: Counter, client_for: Any
) -> None:
    today = timezone.localdate()
    closed = daily_close_record(
        acting_user=clerk_a, counter=counter_a, business_date=today, counted_cash_yen=0
    )
    url = reverse("fees:reopen", args=[closed.pk])
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url).status_code == 403
    close_page = client_for(supervisor_a).get(reverse("fees:close")).content.decode()
    assert url in close_page
    assert url not in client_for(clerk_a).get(reverse("fees:close")).content.decode()
    client = client_for(supervisor_a)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "領収の訂正"})
    assert response.status_code == 302
    closed.refresh_from_db()
    assert (closed.reopened_by, closed.reopen_reason) == (supervisor_a, "領収の訂正")
    page = client.get(response["Location"]).content.decode()
    assert "再開済" in page
    assert "領収の訂正" in page
    # The day can be closed again.
    assert "を締める" in page
