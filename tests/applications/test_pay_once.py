"""One fee, one payment (R-REI-3): a double click, two tabs or a retried request never take a
fee twice, whichever way in (service, form, API), proven with real threads on PostgreSQL and
real HTTP requests against a live server.

Before this, two concurrent payments of one application both succeeded: the lock was taken
with the payment joined in, and after the wait PostgreSQL returned the joined payment from
before it, so the fee still looked unpaid.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.applications.services import application_pay, application_quote
from apps.fees.models import Payment, ReceiptCounter
from apps.fees.rules import ReissueReason
from apps.fees.services import payment_record
from tests.applications.helpers import receive
from tests.auth import mfa_login

ON = date(2026, 11, 27)
BURST = 10


def _clerk(office: Office, code: str) -> User:
    counter = Counter.objects.create(office=office, code=code, name=f"{code}番窓口")
    return User.objects.create_user(
        username=f"clerk{code}",
        password="test-pass-123456",
        role=Role.CLERK,
        office=office,
        counter=counter,
    )


@pytest.fixture
def owed(transactional_db: Any, make_resident: Any, make_card: Any) -> tuple[User, Application]:
    """A reissue after loss waiting for its 1,000 yen, committed so other threads see it."""
    office = Office.objects.create(code="c", name="本庁")
    clerk = _clerk(office, "1")
    resident = make_resident(office)
    make_card(resident)
    application = receive(
        clerk,
        resident,
        ApplicationKind.REISSUE,
        on=ON,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第1号",
    )
    return clerk, application


def _at_once(target: Callable[[int], Any], count: int) -> tuple[list[Any], list[BaseException]]:
    """Run ``target(i)`` in ``count`` threads released together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(target(index))
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a payment thread hung"
    return results, errors


def _one_payment_one_number(application: Application) -> Payment:
    payment = Payment.objects.get()
    assert payment.application_id == application.pk
    assert ReceiptCounter.objects.get().last_number == 1, "a receipt number was used up"
    application.refresh_from_db()
    assert application.payment_id == payment.pk
    assert application.state == ApplicationState.ORDERED
    return payment


def test_two_payments_at_once_take_the_fee_once(owed: tuple[User, Application]) -> None:
    """R-REI-3: two tabs pay the same fee at the same moment; one pays, one is told."""
    clerk, application = owed
    results, errors = _at_once(
        lambda i: application_pay(
            acting_user=clerk, application=application, on=ON, idempotency_key=f"tab-{i}"
        ),
        2,
    )
    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    assert "領収済" in " ".join(errors[0].messages)
    assert results[0].payment == _one_payment_one_number(application)


def test_one_submission_sent_twice_at_once_returns_the_first_receipt(
    owed: tuple[User, Application],
) -> None:
    """A double click: the same submission twice at once gets the same receipt back."""
    clerk, application = owed
    results, errors = _at_once(
        lambda i: application_pay(
            acting_user=clerk, application=application, on=ON, idempotency_key="click"
        ),
        2,
    )
    assert errors == []
    assert sorted(taken.created for taken in results) == [False, True]
    assert {taken.payment.pk for taken in results} == {_one_payment_one_number(application).pk}


def test_the_database_refuses_a_second_payment_for_one_application(
    owed: tuple[User, Application],
) -> None:
    """The constraint holds even for code that skips application_pay's checks."""
    clerk, application = owed
    application_pay(acting_user=clerk, application=application, on=ON, idempotency_key="first")
    with pytest.raises(ValidationError, match="領収済"):
        payment_record(
            acting_user=clerk,
            resident=application.resident,
            quote=application_quote(application),
            on=ON,
            application_id=application.pk,
        )
    payment = Payment.objects.get()
    with (
        pytest.raises(IntegrityError, match="payment_one_settling_per_application"),
        transaction.atomic(),
    ):
        Payment.objects.create(
            **{
                field.attname: getattr(payment, field.attname)
                for field in Payment._meta.concrete_fields
                if field.name not in ("id", "receipt_number", "idempotency_key")
            },
            receipt_number=99,
        )
    assert ReceiptCounter.objects.get().last_number == 1  # the refused one gave its number back


def test_a_key_of_another_application_is_refused(
    owed: tuple[User, Application], make_resident: Any, make_card: Any
) -> None:
    clerk, application = owed
    other_resident = make_resident(application.office)
    make_card(other_resident)
    other = receive(
        clerk,
        other_resident,
        ApplicationKind.REISSUE,
        on=ON,
        reissue_reason=ReissueReason.STOLEN,
        police_report_no="第2号",
    )
    application_pay(acting_user=clerk, application=application, on=ON, idempotency_key="k")
    with pytest.raises(ValidationError, match="別の申請"):
        application_pay(acting_user=clerk, application=other, on=ON, idempotency_key="k")
    assert Payment.objects.count() == 1


# --- over real HTTP ------------------------------------------------------------------------


def _session(live_server: Any, user: User) -> httpx.Client:
    """An HTTP client signed in as ``user`` with its CSRF cookie, against the live server."""
    django_client = mfa_login(Client(), user)
    http = httpx.Client(base_url=live_server.url, timeout=60, follow_redirects=False)
    http.cookies.set("sessionid", django_client.cookies["sessionid"].value)
    return http


def _confirmation(http: httpx.Client, application: Application) -> tuple[str, str]:
    """Open the payment confirmation; return its CSRF token and submission key."""
    page = http.get(reverse("applications:pay", args=[application.pk]), params={"method": "cash"})
    assert page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    submission = re.search(r'name="submission" value="([^"]+)"', page.text)
    assert csrf is not None
    assert submission is not None
    return csrf.group(1), submission.group(1)


def _burst(send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(BURST)

    def at_once(index: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return send(index)

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        return list(pool.map(at_once, range(BURST)))


def test_form_double_click_over_http_takes_one_payment(
    owed: tuple[User, Application], live_server: Any
) -> None:
    """The same confirmation posted 10 times at once: one payment, every reply the receipt."""
    clerk, application = owed
    with _session(live_server, clerk) as http:
        csrf, submission = _confirmation(http, application)
        url = reverse("applications:pay", args=[application.pk])
        replies = _burst(
            lambda _: http.post(
                url,
                data={"csrfmiddlewaretoken": csrf, "method": "cash", "submission": submission},
            )
        )
    assert [reply.status_code for reply in replies] == [302] * BURST
    detail = reverse("applications:detail", args=[application.pk])
    assert {reply.headers["location"] for reply in replies} == {detail}
    _one_payment_one_number(application)


def test_form_from_ten_tabs_over_http_takes_one_payment(
    owed: tuple[User, Application], live_server: Any
) -> None:
    """Ten confirmations (ten tabs) posted at once: one payment, nine clear refusals."""
    clerk, application = owed
    with _session(live_server, clerk) as http:
        opened = [_confirmation(http, application) for _ in range(BURST)]
        url = reverse("applications:pay", args=[application.pk])
        replies = _burst(
            lambda i: http.post(
                url,
                data={
                    "csrfmiddlewaretoken": opened[i][0],
                    "method": "cash",
                    "submission": opened[i][1],
                },
            )
        )
    codes = sorted(reply.status_code for reply in replies)
    assert codes == [302] + [400] * (BURST - 1)
    for reply in replies:
        if reply.status_code == 400:
            assert "この申請の手数料は領収済です" in reply.text
    _one_payment_one_number(application)


def test_api_retries_over_http_return_the_first_receipt(
    owed: tuple[User, Application], live_server: Any
) -> None:
    """The same Idempotency-Key 10 times at once: one 201, nine 200 with the same payment."""
    clerk, application = owed
    with _session(live_server, clerk) as http:
        csrf = _confirmation(http, application)[0]
        url = reverse("applications-api:pay", args=[application.pk])
        key = str(uuid.uuid4())
        replies = _burst(
            lambda _: http.post(
                url,
                json={"method": "cash"},
                headers={"X-CSRFToken": csrf, "Idempotency-Key": key},
            )
        )
    assert sorted(reply.status_code for reply in replies) == [200] * (BURST - 1) + [201]
    payment = _one_payment_one_number(application)
    assert {reply.json()["id"] for reply in replies} == {str(payment.pk)}
    assert {reply.json()["receipt_number"] for reply in replies} == {1}


def test_api_different_requests_over_http_take_one_payment(
    owed: tuple[User, Application], live_server: Any
) -> None:
    """Ten different requests (ten keys) at once: one 201, nine 400 saying it is paid."""
    clerk, application = owed
    with _session(live_server, clerk) as http:
        csrf = _confirmation(http, application)[0]
        url = reverse("applications-api:pay", args=[application.pk])
        replies = _burst(
            lambda i: http.post(
                url,
                json={"method": "cash"},
                headers={"X-CSRFToken": csrf, "Idempotency-Key": f"request-{i}"},
            )
        )
        missing_key = http.post(url, json={"method": "cash"}, headers={"X-CSRFToken": csrf})
    assert sorted(reply.status_code for reply in replies) == [201] + [400] * (BURST - 1)
    for reply in replies:
        if reply.status_code == 400:
            assert "この申請の手数料は領収済です" in reply.text
    assert missing_key.status_code == 400
    assert "Idempotency-Key" in missing_key.text
    _one_payment_one_number(application)
