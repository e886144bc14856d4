"""Tests of apps.fees.services on PostgreSQL: the quote from the effective-dated schedule
(R-REI table, R-REI-2, R-REI-3), waivers, payments and receipts, voids and the daily close."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, ProgrammingError, transaction

from apps.accounts.models import Counter, User
from apps.accounts.roles import Role
from apps.core.wareki import fiscal_year_name
from apps.fees.models import (
    DailyClose,
    FeeAmount,
    FeeSchedule,
    FeeWaiver,
    Payment,
    PaymentMethod,
    PaymentVoid,
)
from apps.fees.rules import (
    DEFAULT_FEE_AMOUNTS,
    FeeRow,
    Procedure,
    ReissueReason,
    fiscal_year_of,
)
from apps.fees.services import (
    close_totals,
    daily_close_record,
    fee_quote,
    fee_schedule_add,
    fee_schedule_in_force,
    fee_waiver_approve,
    fee_waiver_request,
    payment_is_settled,
    payment_record,
    payment_void,
)
from tests.fees.test_rules import TABLE

P = Procedure
R = ReissueReason
ON = date(2026, 11, 27)


@pytest.fixture
def resident_a(make_resident: Any, office_a: Any) -> Any:
    return make_resident(office_a)


def _quote(row_procedure: Procedure = P.REISSUE, **kw: Any) -> Any:
    kw.setdefault("reason", R.LOST if row_procedure is P.REISSUE else None)
    return fee_quote(procedure=row_procedure, on=kw.pop("on", ON), **kw)


# --- the quote: every R-REI table row, from the schedule (R-REI-3) ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("procedure", "reason", "certs", "returned", "row", "yen"), TABLE)
def test_r_rei_table_quote_from_the_schedule(
    procedure: Procedure,
    reason: ReissueReason | None,
    certs: bool,
    returned: bool,
    row: FeeRow,
    yen: int,
) -> None:
    """R-REI table: each row's amount comes from the schedule in force, with its rule cited."""
    quote = fee_quote(
        procedure=procedure,
        reason=reason,
        with_certificates=certs,
        old_card_returned=returned,
        on=ON,
    )
    assert (quote.row, quote.amount_yen) == (row, yen)
    assert quote.rule == row.rule
    assert "R-REI" in quote.rule
    assert quote.schedule_starts_on == date(2015, 10, 5)


@pytest.mark.django_db
def test_r_rei_2_renewal_without_the_old_card_is_charged_as_a_reissue() -> None:
    """R-REI-2: a lost old card turns the renewal into a paid reissue."""
    free = fee_quote(procedure=P.RENEWAL, old_card_returned=True, on=ON)
    paid = fee_quote(procedure=P.RENEWAL, old_card_returned=False, on=ON)
    assert (free.amount_yen, paid.amount_yen) == (0, 1000)
    assert "R-REI-2" in paid.rule


@pytest.mark.django_db
def test_r_rei_impossible_combination_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="旧カードの返納が必要です"):
        fee_quote(procedure=P.REISSUE, reason=R.DAMAGED, old_card_returned=False, on=ON)
    with pytest.raises(ValidationError, match="再交付の理由を選択"):
        fee_quote(procedure=P.REISSUE, on=ON)


@pytest.mark.django_db
def test_the_data_migration_loaded_todays_schedule() -> None:
    """R-REI-3: the migration holds the guidebook amounts, equal to DEFAULT_FEE_AMOUNTS."""
    migration = importlib.import_module("apps.fees.migrations.0002_initial_fee_schedule")
    # Issue 10: the rows for card changes and express issuance came later.
    added = importlib.import_module("apps.fees.migrations.0005_card_change_and_express_rows")
    amounts = migration.AMOUNTS | added.NEW_AMOUNTS
    assert {row.value: yen for row, yen in DEFAULT_FEE_AMOUNTS.items()} == amounts
    schedule = fee_schedule_in_force(on=ON)
    stored = dict(FeeAmount.objects.filter(schedule=schedule).values_list("row", "amount_yen"))
    assert stored == amounts


@pytest.mark.django_db
def test_r_rei_3_effective_dated_schedule(supervisor_a: User) -> None:
    """R-REI-3: a new schedule applies from its start date; earlier days keep the old amounts."""
    amounts = dict(DEFAULT_FEE_AMOUNTS) | {FeeRow.REISSUE_LOSS_WITH_CERTS: 1200}
    fee_schedule_add(
        acting_user=supervisor_a,
        starts_on=date(2027, 4, 1),
        amounts=amounts,
        note="改定",
        today=ON,
    )
    assert _quote(on=date(2027, 3, 31)).amount_yen == 1000
    after = _quote(on=date(2027, 4, 1))
    assert after.amount_yen == 1200
    assert after.schedule_starts_on == date(2027, 4, 1)
    # A correction with the same start date supersedes (nothing is edited).
    fee_schedule_add(
        acting_user=supervisor_a,
        starts_on=date(2027, 4, 1),
        amounts=dict(DEFAULT_FEE_AMOUNTS) | {FeeRow.REISSUE_LOSS_WITH_CERTS: 1100},
        today=ON,
    )
    assert _quote(on=date(2027, 4, 2)).amount_yen == 1100
    assert FeeSchedule.objects.count() == 3


@pytest.mark.django_db
def test_r_rei_3_schedule_rules(supervisor_a: User, clerk_a: User) -> None:
    full = dict(DEFAULT_FEE_AMOUNTS)
    with pytest.raises(ValidationError, match="明日以降"):
        fee_schedule_add(acting_user=supervisor_a, starts_on=ON, amounts=full, today=ON)
    partial = {FeeRow.FIRST_ISSUE_FREE: 0}
    with pytest.raises(ValidationError, match="金額が入力されていない区分"):
        fee_schedule_add(
            acting_user=supervisor_a, starts_on=date(2027, 1, 1), amounts=partial, today=ON
        )
    with pytest.raises(ValidationError, match="0円以上"):
        fee_schedule_add(
            acting_user=supervisor_a,
            starts_on=date(2027, 1, 1),
            amounts=full | {FeeRow.REISSUE_LOSS_NO_CERTS: -1},
            today=ON,
        )
    with pytest.raises(PermissionDenied):
        fee_schedule_add(acting_user=clerk_a, starts_on=date(2027, 1, 1), amounts=full, today=ON)
    assert FeeSchedule.objects.count() == 1


@pytest.mark.django_db
def test_schedule_rows_are_append_only() -> None:
    """R-REI-3: history is not edited: the database refuses UPDATE and DELETE."""
    amount = FeeAmount.objects.first()
    assert amount is not None
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        FeeAmount.objects.filter(pk=amount.pk).update(amount_yen=5)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        FeeSchedule.objects.filter(pk=amount.schedule_id).update(note="edited")


@pytest.mark.django_db
def test_no_schedule_in_force_is_an_error() -> None:
    with pytest.raises(ValidationError, match="手数料表が登録されていません"):
        fee_quote(procedure=P.FIRST_ISSUE, on=date(2015, 10, 4))


# --- waivers (R-REI-3) -------------------------------------------------------------------------


@pytest.mark.django_db
def test_r_rei_3_waiver_reason_and_approval(
    clerk_a: User, supervisor_a: User, resident_a: Any, office_a: Any
) -> None:
    """R-REI-3: the clerk records the reason, another person (a supervisor) approves."""
    with pytest.raises(ValidationError, match="理由"):
        fee_waiver_request(
            acting_user=clerk_a,
            resident=resident_a,
            fee_row=FeeRow.REISSUE_NOT_HOLDER_FAULT,
            reason="  ",
        )
    with pytest.raises(ValidationError, match="承認を要する区分ではありません"):
        fee_waiver_request(
            acting_user=clerk_a, resident=resident_a, fee_row=FeeRow.FIRST_ISSUE_FREE, reason="x"
        )
    waiver = fee_waiver_request(
        acting_user=clerk_a,
        resident=resident_a,
        fee_row=FeeRow.REISSUE_NOT_HOLDER_FAULT,
        reason="ICチップの初期不良",
    )
    with pytest.raises(PermissionDenied):
        fee_waiver_approve(acting_user=clerk_a, waiver=waiver)
    other_supervisor = User.objects.create_user(
        username="sup_b", password="x" * 12, role=Role.SUPERVISOR, office=_office_b()
    )
    with pytest.raises(PermissionDenied):
        fee_waiver_approve(acting_user=other_supervisor, waiver=waiver)
    approved = fee_waiver_approve(acting_user=supervisor_a, waiver=waiver)
    assert approved.approved_by == supervisor_a
    assert approved.approved_at is not None
    with pytest.raises(ValidationError, match="既に承認"):
        fee_waiver_approve(acting_user=supervisor_a, waiver=waiver)


@pytest.mark.django_db
def test_r_rei_3_nobody_approves_their_own_waiver(supervisor_a: User, resident_a: Any) -> None:
    waiver = fee_waiver_request(
        acting_user=supervisor_a,
        resident=resident_a,
        fee_row=FeeRow.REISSUE_NOT_HOLDER_FAULT,
        reason="市の誤り",
    )
    with pytest.raises(ValidationError, match="本人は承認できません"):
        fee_waiver_approve(acting_user=supervisor_a, waiver=waiver)
    assert not FeeWaiver.objects.get(pk=waiver.pk).approved


def _office_b() -> Any:
    from apps.accounts.models import Office

    return Office.objects.get_or_create(code="b", defaults={"name": "支所"})[0]


# --- payments and receipts -----------------------------------------------------------------------


@pytest.mark.django_db
def test_receipt_numbers_are_gapless_per_office_and_fiscal_year(
    clerk_a: User, resident_a: Any, office_a: Any, make_resident: Any
) -> None:
    """Receipt numbers run 1, 2, 3 … per office and fiscal year (April–March)."""
    quote = _quote()
    numbers = [
        payment_record(acting_user=clerk_a, resident=resident_a, quote=quote, on=day)
        for day in (date(2027, 3, 30), date(2027, 3, 31), date(2027, 4, 1), date(2027, 4, 2))
    ]
    assert [(p.fiscal_year, p.receipt_number) for p in numbers] == [
        (2026, 1),
        (2026, 2),
        (2027, 1),
        (2027, 2),
    ]
    assert numbers[0].receipt_label == "令和8年度 第000001号"
    # Another office has its own sequence.
    office_b = _office_b()
    counter_b = Counter.objects.create(office=office_b, code="1", name="1番窓口")
    clerk = User.objects.create_user(
        username="clerk_b2", password="x" * 12, role=Role.CLERK, office=office_b, counter=counter_b
    )
    payment_b = payment_record(
        acting_user=clerk, resident=make_resident(office_b), quote=quote, on=date(2027, 3, 31)
    )
    assert (payment_b.fiscal_year, payment_b.receipt_number) == (2026, 1)


def test_fiscal_year() -> None:
    assert fiscal_year_of(date(2026, 4, 1)) == 2026
    assert fiscal_year_of(date(2027, 3, 31)) == 2026
    assert fiscal_year_of(date(2026, 3, 31)) == 2025
    # Receipts and reports name a fiscal year alike (apps.core.wareki.fiscal_year_name):
    # FY2019 began under Heisei, but Reiwa began a month into it and cities say 令和元年度.
    assert fiscal_year_name(2026) == "令和8年度"
    assert fiscal_year_name(2019) == "令和元年度"
    assert fiscal_year_name(2020) == "令和2年度"


@pytest.mark.django_db
def test_a_rolled_back_payment_gives_its_number_back(clerk_a: User, resident_a: Any) -> None:
    quote = _quote()

    def pay_then_fail() -> None:
        with transaction.atomic():
            payment_record(acting_user=clerk_a, resident=resident_a, quote=quote, on=ON)
            raise RuntimeError("the caller failed after the payment")

    with pytest.raises(RuntimeError):
        pay_then_fail()
    payment = payment_record(acting_user=clerk_a, resident=resident_a, quote=quote, on=ON)
    assert payment.receipt_number == 1


@pytest.mark.django_db
def test_payment_preconditions(
    clerk_a: User, clerk_b: User, supervisor_a: User, resident_a: Any
) -> None:
    quote = _quote()
    with pytest.raises(ValidationError, match="0円の手続"):
        payment_record(acting_user=clerk_a, resident=resident_a, quote=_quote(P.FIRST_ISSUE), on=ON)
    with pytest.raises(PermissionDenied):
        payment_record(acting_user=clerk_b, resident=resident_a, quote=quote, on=ON)
    with pytest.raises(ValidationError, match="担当窓口"):
        payment_record(acting_user=supervisor_a, resident=resident_a, quote=quote, on=ON)
    with pytest.raises(ValidationError, match="支払方法"):
        payment_record(acting_user=clerk_a, resident=resident_a, quote=quote, method="card", on=ON)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_payments_are_never_edited_or_deleted(clerk_a: User, resident_a: Any) -> None:
    payment = payment_record(acting_user=clerk_a, resident=resident_a, quote=_quote(), on=ON)
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount_yen=1)
    # The void flag is the one write it takes, and only with nothing else changing.
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(voided=True, amount_yen=1)
    with pytest.raises(ProgrammingError, match="Cannot delete"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).delete()


@pytest.mark.django_db
def test_void_only_by_a_supervisor_with_a_reason(
    clerk_a: User, supervisor_a: User, resident_a: Any
) -> None:
    payment = payment_record(acting_user=clerk_a, resident=resident_a, quote=_quote(), on=ON)
    with pytest.raises(PermissionDenied):
        payment_void(acting_user=clerk_a, payment=payment, reason="誤り")
    with pytest.raises(ValidationError, match="理由"):
        payment_void(acting_user=supervisor_a, payment=payment, reason=" ")
    void = payment_void(acting_user=supervisor_a, payment=payment, reason="金額の誤り")
    assert void.voided_by == supervisor_a
    payment.refresh_from_db()
    assert not payment_is_settled(payment)
    # Once voided, the flag cannot be taken back.
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(voided=False)
    with pytest.raises(ValidationError, match="既に取り消されています"):
        payment_void(acting_user=supervisor_a, payment=payment, reason="二重")
    # The payment row stays; its number stays used.
    assert Payment.objects.filter(pk=payment.pk).exists()
    nxt = payment_record(acting_user=clerk_a, resident=resident_a, quote=_quote(), on=ON)
    assert nxt.receipt_number == 2
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        PaymentVoid.objects.filter(pk=void.pk).delete()


# --- daily close ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_daily_close_totals_cash_by_row_and_flags_a_difference(
    clerk_a: User, supervisor_a: User, resident_a: Any, counter_a: Counter
) -> None:
    loss = _quote()
    damage = _quote(reason=R.DAMAGED, with_certificates=False)
    p1 = payment_record(acting_user=clerk_a, resident=resident_a, quote=loss, on=ON)
    payment_record(acting_user=clerk_a, resident=resident_a, quote=loss, on=ON)
    payment_record(acting_user=clerk_a, resident=resident_a, quote=damage, on=ON)
    payment_record(
        acting_user=clerk_a,
        resident=resident_a,
        quote=loss,
        method=PaymentMethod.CASHLESS,
        on=ON,
    )
    payment_void(acting_user=supervisor_a, payment=p1, reason="二重に記録")
    totals = close_totals(counter=counter_a, business_date=ON)
    lines = {line.row: (line.count, line.total_yen) for line in totals.lines}
    assert lines == {
        FeeRow.REISSUE_LOSS_WITH_CERTS: (1, 1000),
        FeeRow.REISSUE_DAMAGE_NO_CERTS: (1, 800),
    }
    assert (totals.cash_total_yen, totals.cashless_total_yen) == (1800, 1000)
    assert (totals.payments_count, totals.voided_count) == (4, 1)

    with pytest.raises(ValidationError, match="備考"):
        daily_close_record(
            acting_user=clerk_a,
            counter=counter_a,
            business_date=ON,
            counted_cash_yen=1700,
            today=ON,
        )
    closed = daily_close_record(
        acting_user=clerk_a,
        counter=counter_a,
        business_date=ON,
        counted_cash_yen=1700,
        note="100円不足、調査中",
        today=ON,
    )
    assert (closed.expected_cash_yen, closed.difference_yen, closed.has_difference) == (
        1800,
        -100,
        True,
    )
    assert {(line.fee_row, line.total_yen) for line in closed.lines.all()} == {
        (FeeRow.REISSUE_LOSS_WITH_CERTS.value, 1000),
        (FeeRow.REISSUE_DAMAGE_NO_CERTS.value, 800),
    }
    # A closed day takes no more payments, and is closed once.
    with pytest.raises(ValidationError, match="締め済み"):
        payment_record(acting_user=clerk_a, resident=resident_a, quote=loss, on=ON)
    with pytest.raises(ValidationError, match="締め済み"):
        daily_close_record(
            acting_user=clerk_a,
            counter=counter_a,
            business_date=ON,
            counted_cash_yen=1800,
            today=ON,
        )


@pytest.mark.django_db
def test_daily_close_without_difference_and_its_preconditions(
    clerk_a: User, clerk_b: User, counter_a: Counter
) -> None:
    closed = daily_close_record(
        acting_user=clerk_a, counter=counter_a, business_date=ON, counted_cash_yen=0, today=ON
    )
    assert not closed.has_difference
    with pytest.raises(PermissionDenied):
        daily_close_record(
            acting_user=clerk_b,
            counter=counter_a,
            business_date=date(2026, 11, 26),
            counted_cash_yen=0,
            today=ON,
        )
    with pytest.raises(ValidationError, match="未来"):
        daily_close_record(
            acting_user=clerk_a,
            counter=counter_a,
            business_date=date(2026, 11, 28),
            counted_cash_yen=0,
            today=ON,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyClose.objects.create(
            office=counter_a.office,
            counter=counter_a,
            business_date=ON,
            expected_cash_yen=0,
            counted_cash_yen=0,
            payments_count=0,
            voided_count=0,
            closed_by=clerk_a,
            closed_at=closed.closed_at,
        )


def test_a_payment_stores_its_fee_row_not_a_copy_of_the_rule_text() -> None:
    columns = {field.column for field in Payment._meta.concrete_fields}
    assert "fee_row" in columns
    assert "fee_rule" not in columns
    assert Payment(fee_row=FeeRow.REISSUE_LOSS_WITH_CERTS).fee_rule == (
        FeeRow.REISSUE_LOSS_WITH_CERTS.rule
    )
