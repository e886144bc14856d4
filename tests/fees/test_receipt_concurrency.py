"""Two (and more) counters taking fees at the same moment never share or skip a receipt number.

A real concurrent test on PostgreSQL: each thread has its own database connection (Django's
connections are per thread) and the transactions overlap; nothing is mocked. Some payments
roll back after taking their number, as a failing request would; the committed numbers must
still be 1..n with no gap and no duplicate.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.fees.models import Payment, ReceiptCounter
from apps.fees.rules import Procedure, ReissueReason
from apps.fees.services import fee_quote, payment_record

ON = date(2026, 11, 27)
THREADS = 4
PAYMENTS_EACH = 6


class _Rollback(Exception):
    pass


def _run_threads(target: Any, args_list: list[tuple[Any, ...]]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(args_list))

    def run(*args: Any) -> None:
        try:
            barrier.wait(timeout=30)
            target(*args)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a payment thread hung"
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_at_one_office_are_gapless(make_resident: Any) -> None:
    office = Office.objects.create(code="c", name="本庁")
    resident = make_resident(office)
    clerks = []
    for index in range(THREADS):
        counter = Counter.objects.create(office=office, code=str(index + 1), name=f"{index + 1}番")
        clerks.append(
            User.objects.create_user(
                username=f"clerk{index}",
                password="x" * 12,
                role=Role.CLERK,
                office=office,
                counter=counter,
            )
        )
    quote = fee_quote(procedure=Procedure.REISSUE, reason=ReissueReason.LOST, on=ON)
    rolled_back = []

    def take_fees(clerk: User, thread_index: int) -> None:
        for number in range(PAYMENTS_EACH):
            try:
                with transaction.atomic():
                    payment_record(acting_user=clerk, resident=resident, quote=quote, on=ON)
                    if (thread_index + number) % 5 == 0:
                        # The request fails after its number was handed out.
                        raise _Rollback
            except _Rollback:
                rolled_back.append(1)

    errors = _run_threads(take_fees, [(clerk, index) for index, clerk in enumerate(clerks)])
    assert errors == []

    numbers = sorted(
        Payment.objects.filter(office=office, fiscal_year=2026).values_list(
            "receipt_number", flat=True
        )
    )
    committed = THREADS * PAYMENTS_EACH - len(rolled_back)
    assert rolled_back, "the test must include rolled-back payments"
    assert numbers == list(range(1, committed + 1))
    assert ReceiptCounter.objects.get(office=office, fiscal_year=2026).last_number == committed
    # Every counter took part: the numbers really were contended for.
    assert Payment.objects.filter(office=office).values("counter").distinct().count() == THREADS


@pytest.mark.django_db(transaction=True)
def test_first_payment_of_a_fiscal_year_from_two_counters_at_once(make_resident: Any) -> None:
    """The counter row does not exist yet: both threads try to create it at the same time."""
    office = Office.objects.create(code="d", name="支所")
    resident = make_resident(office)
    clerks = [
        User.objects.create_user(
            username=f"d{index}",
            password="x" * 12,
            role=Role.CLERK,
            office=office,
            counter=Counter.objects.create(office=office, code=str(index), name=f"{index}番"),
        )
        for index in range(2)
    ]
    quote = fee_quote(procedure=Procedure.REISSUE, reason=ReissueReason.STOLEN, on=ON)
    first_day_of_year = date(2027, 4, 1)

    def pay(clerk: User) -> None:
        payment_record(acting_user=clerk, resident=resident, quote=quote, on=first_day_of_year)

    assert _run_threads(pay, [(clerk,) for clerk in clerks]) == []
    numbers = sorted(
        Payment.objects.filter(office=office, fiscal_year=2027).values_list(
            "receipt_number", flat=True
        )
    )
    assert numbers == [1, 2]
