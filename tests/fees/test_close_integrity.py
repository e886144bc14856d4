"""Closes that fit: a clerk closes their own counter, a supervisor any counter of the office,
and the 日計 summary is the chosen counter's (it always showed counter 1). Two closes of one
counter-day at once make one close; a payment racing a close is either in it or refused.
Real threads on PostgreSQL for the races.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.fees.models import DailyClose, Payment
from apps.fees.rules import Procedure, ReissueReason
from apps.fees.services import daily_close_record, fee_quote, payment_record

ON = date(2026, 11, 27)


@pytest.fixture
def counter_2(office_a: Office) -> Counter:
    return Counter.objects.create(office=office_a, code="2", name="2番窓口")


@pytest.fixture
def clerk_2(office_a: Office, counter_2: Counter) -> User:
    return User.objects.create_user(
        username="clerk_a2",
        password="test-pass-123456",
        role=Role.CLERK,
        office=office_a,
        counter=counter_2,
        last_name="二番",
    )


def _take_fee(clerk: User, resident: Any, day: date) -> Payment:
    quote = fee_quote(procedure=Procedure.REISSUE, reason=ReissueReason.LOST, on=day)
    return payment_record(acting_user=clerk, resident=resident, quote=quote, on=day)


@pytest.mark.django_db
def test_a_clerk_closes_only_their_own_counter(
    clerk_a: User, supervisor_a: User, counter_2: Counter, clerk_2: User
) -> None:
    with pytest.raises(PermissionDenied, match="担当する窓口"):
        daily_close_record(
            acting_user=clerk_a, counter=counter_2, business_date=ON, counted_cash_yen=0, today=ON
        )
    assert not DailyClose.objects.exists()
    closed = daily_close_record(
        acting_user=supervisor_a, counter=counter_2, business_date=ON, counted_cash_yen=0, today=ON
    )
    assert closed.counter == counter_2


@pytest.mark.django_db
def test_the_close_page_shows_and_closes_the_chosen_counter(
    clerk_a: User,
    supervisor_a: User,
    counter_a: Counter,
    counter_2: Counter,
    clerk_2: User,
    make_resident: Any,
    office_a: Office,
    client_for: Any,
) -> None:
    today = timezone.localdate()
    _take_fee(clerk_2, make_resident(office_a), today)  # 1,000 yen at counter 2, none at 1
    url = reverse("fees:close")

    # The clerk of counter 1 sees and closes counter 1 only.
    clerk_page = client_for(clerk_a).get(url, {"counter": counter_2.pk})
    assert clerk_page.status_code == 400  # not a counter they may choose
    own = client_for(clerk_a).get(url).content.decode()
    assert f'data-close-counter="{counter_a.pk}"' in own
    assert "2番窓口の" not in own
    refused = client_for(clerk_a).post(
        url, {"counter": counter_2.pk, "business_date": today.isoformat(), "counted_cash_yen": 1000}
    )
    assert refused.status_code == 400
    assert not DailyClose.objects.exists()

    # The supervisor picks counter 2: the summary is counter 2's, and so is the close.
    client = client_for(supervisor_a)
    page = client.get(url, {"counter": counter_2.pk, "business_date": today.isoformat()})
    body = page.content.decode()
    assert page.status_code == 200
    assert f'data-close-counter="{counter_2.pk}"' in body
    assert 'data-expected-cash="1000"' in body
    assert f'<option value="{counter_2.pk}" selected>' in body
    done = client.post(
        url, {"counter": counter_2.pk, "business_date": today.isoformat(), "counted_cash_yen": 1000}
    )
    assert done.status_code == 302
    closed = DailyClose.objects.get()
    assert (closed.counter, closed.expected_cash_yen, closed.closed_by) == (
        counter_2,
        1000,
        supervisor_a,
    )
    after = client.get(done["Location"]).content.decode()
    assert "data-closed-now" in after


@pytest.mark.django_db
def test_the_close_api_refuses_another_counter_to_a_clerk(
    clerk_a: User, counter_2: Counter, clerk_b: User, client_for: Any
) -> None:
    url = reverse("fees-api:daily-closes")
    body = {
        "counter_id": str(counter_2.pk),
        "business_date": timezone.localdate().isoformat(),
        "counted_cash_yen": 0,
    }
    assert client_for(clerk_a).post(url, body, content_type="application/json").status_code == 403
    assert client_for(clerk_b).post(url, body, content_type="application/json").status_code == 400
    assert not DailyClose.objects.exists()


def _at_once(*targets: Any) -> list[BaseException]:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Any) -> None:
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_clerk_and_a_supervisor_closing_at_once_make_one_close(
    clerk_a: User, supervisor_a: User, counter_a: Counter, make_resident: Any, office_a: Office
) -> None:
    _take_fee(clerk_a, make_resident(office_a), ON)

    def close(user: User) -> Any:
        return lambda: daily_close_record(
            acting_user=user, counter=counter_a, business_date=ON, counted_cash_yen=1000, today=ON
        )

    errors = _at_once(close(clerk_a), close(supervisor_a))
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    assert "締め済み" in " ".join(errors[0].messages)
    assert DailyClose.objects.get().expected_cash_yen == 1000


@pytest.mark.django_db(transaction=True)
def test_a_payment_racing_the_close_is_counted_or_refused(
    clerk_a: User, supervisor_a: User, counter_a: Counter, make_resident: Any, office_a: Office
) -> None:
    """Whichever wins the counter's lock, the close equals the payments it let in."""
    resident = make_resident(office_a)
    for _ in range(5):
        errors = _at_once(
            lambda: _take_fee(clerk_a, resident, ON),
            lambda: daily_close_record(
                acting_user=supervisor_a,
                counter=counter_a,
                business_date=ON,
                counted_cash_yen=0,
                note="実査前の締め（試験）",
                today=ON,
            ),
        )
        closed = DailyClose.objects.get(reopened_at__isnull=True)
        taken = Payment.objects.filter(counter=counter_a, business_date=ON)
        for error in errors:
            assert isinstance(error, ValidationError)
            assert "締め済み" in " ".join(error.messages)
        # Nothing slipped in after the close, nothing in it is missing.
        assert closed.payments_count == taken.count()
        assert closed.expected_cash_yen == sum(payment.amount_yen for payment in taken)
        closed.reopened_at = timezone.now()
        closed.reopened_by = supervisor_a
        closed.reopen_reason = "次の試行"
        closed.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])


@pytest.mark.django_db
def test_the_reopen_api_is_a_supervisors_with_a_reason(
    clerk_a: User, supervisor_a: User, counter_a: Counter, client_for: Any
) -> None:
    closed = daily_close_record(
        acting_user=clerk_a,
        counter=counter_a,
        business_date=timezone.localdate(),
        counted_cash_yen=0,
    )
    url = reverse("fees-api:daily-close-reopen", args=[closed.pk])
    assert client_for(None).post(url, {"reason": "x"}).status_code in (401, 403)
    assert client_for(clerk_a).post(url, {"reason": "x"}).status_code == 403
    assert client_for(supervisor_a).post(url, {"reason": ""}).status_code == 400
    done = client_for(supervisor_a).post(url, {"reason": "領収の訂正"})
    assert done.status_code == 200
    assert done.json()["reopen_reason"] == "領収の訂正"
    again = client_for(supervisor_a).post(url, {"reason": "再度"})
    assert again.status_code == 400
    assert "既に再開" in again.content.decode()
