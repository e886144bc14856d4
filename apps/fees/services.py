"""Every write about fees, and the fee quote. Rule ids refer to ``docs/rules.md``.

Each write is one service (apps.core.service: one transaction, its history names the actor)
that checks its preconditions and locks what it changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import Counter, User
from apps.core.service import SystemActor, service
from apps.core.wareki import format_both
from apps.fees.models import (
    DailyClose,
    DailyCloseLine,
    FeeAmount,
    FeeSchedule,
    FeeWaiver,
    Payment,
    PaymentMethod,
    PaymentVoid,
    ReceiptCounter,
)
from apps.fees.rules import (
    DEFAULT_FEE_AMOUNTS,
    FEE_ROWS_NEEDING_APPROVAL,
    FeeRow,
    Procedure,
    ReissueReason,
    fee_row_for,
    fiscal_year_of,
)
from apps.residents.models import Resident

SEED_DEFAULT = SystemActor("fees.seed_default_schedule")

# Amounts above this are a typing slip, not a fee of this office (the largest today is 1,000).
MAX_FEE_YEN = 100_000


# --- the quote ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """What a procedure costs on a day, and why.

    ``rule`` is the docs/rules.md rule or R-REI table row that decided the amount; ``row`` and the
    schedule say where the amount was read, so a payment can record both.
    """

    amount_yen: int
    rule: str
    row: FeeRow
    schedule_id: uuid.UUID
    schedule_starts_on: date

    @property
    def needs_approval(self) -> bool:
        """A waiver that is the clerk's judgement needs a supervisor's approval (R-REI-3)."""
        return self.row in FEE_ROWS_NEEDING_APPROVAL


def fee_schedule_in_force(*, on: date) -> FeeSchedule:
    """The schedule in force on ``on``: the latest start on or before it (R-REI-3)."""
    schedule = (
        FeeSchedule.objects.filter(starts_on__lte=on).order_by("-starts_on", "-created_at").first()
    )
    if schedule is None:
        raise ValidationError(f"{format_both(on)}に適用される手数料表が登録されていません。")
    return schedule


def fee_quote(
    *,
    procedure: Procedure,
    reason: ReissueReason | None = None,
    with_certificates: bool = True,
    old_card_returned: bool = True,
    on: date,
) -> FeeQuote:
    """The fee for a procedure on ``on`` (R-REI table, R-REI-2, R-REI-3).

    The row comes from the pure classification (apps.fees.rules.fee_row_for), the amount from
    the schedule in force that day, never from a constant (R-REI-3). Impossible combinations
    (a reissue without a reason, a damaged card not returned, …) are a ``ValidationError``
    with the rule's Japanese message.
    """
    try:
        row = fee_row_for(
            procedure=procedure,
            reason=reason,
            with_certificates=with_certificates,
            old_card_returned=old_card_returned,
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    schedule = fee_schedule_in_force(on=on)
    amount = FeeAmount.objects.filter(schedule=schedule, row=row).values_list(
        "amount_yen", flat=True
    )
    found = list(amount)
    if not found:
        raise ValidationError(
            f"手数料表（{format_both(schedule.starts_on)}〜）に「{row.label}」がありません。"
        )
    return FeeQuote(
        amount_yen=found[0],
        rule=row.rule,
        row=row,
        schedule_id=schedule.id,
        schedule_starts_on=schedule.starts_on,
    )


# --- the schedule ---------------------------------------------------------------------------


_SUPERVISORS_ONLY = "監督者のみが行える操作です。"


@service
def fee_schedule_add(
    *,
    acting_user: User,
    starts_on: date,
    amounts: Mapping[FeeRow, int],
    note: str = "",
    today: date | None = None,
) -> FeeSchedule:
    """A supervisor adds a schedule that applies from ``starts_on`` (R-REI-3).

    The start must be in the future: fees already taken were taken under the schedule then in
    force, and a schedule that started in the past would make their quotes unrepeatable. Every
    row of the R-REI table needs an amount, so a quote can never fall through to a default.
    """
    policy.check(policy.may_manage_fee_schedules(acting_user), _SUPERVISORS_ONLY)
    today = today or timezone.localdate()
    if starts_on <= today:
        raise ValidationError({"starts_on": "適用開始日は明日以降の日付にしてください。"})
    missing = [row.label for row in FeeRow if row not in amounts]
    if missing:
        raise ValidationError(f"金額が入力されていない区分があります：{'、'.join(missing)}")
    for row, amount in amounts.items():
        if not 0 <= amount <= MAX_FEE_YEN:
            raise ValidationError(
                {row.value: f"「{row.label}」の金額は0円以上{MAX_FEE_YEN:,}円以下にしてください。"}
            )
    schedule = FeeSchedule.objects.create(
        starts_on=starts_on, note=note.strip(), created_by=acting_user
    )
    FeeAmount.objects.bulk_create(
        FeeAmount(schedule=schedule, row=row, amount_yen=amounts[row]) for row in FeeRow
    )
    return schedule


@service
def fee_schedule_seed_default(
    *,
    acting_user: SystemActor = SEED_DEFAULT,
    starts_on: date = date(2015, 10, 5),
) -> FeeSchedule:
    """Make sure a schedule exists: today's amounts from DEFAULT_FEE_AMOUNTS (R-REI-3).

    The data migration does the same for every database; this is for test databases that a
    transactional test emptied, and for scratch databases (bench/). Idempotent.
    """
    existing = FeeSchedule.objects.filter(starts_on=starts_on).first()
    if existing is not None:
        return existing
    schedule = FeeSchedule.objects.create(
        starts_on=starts_on, note="ガイドブック記載の手数料（初期データ）"
    )
    FeeAmount.objects.bulk_create(
        FeeAmount(schedule=schedule, row=row, amount_yen=amount)
        for row, amount in DEFAULT_FEE_AMOUNTS.items()
    )
    return schedule


# --- waivers (R-REI-3) ------------------------------------------------------------------------


def _require_office_staff(user: User, resident: Resident) -> None:
    # The views have already answered 404 for a resident out of scope (the selectors do not
    # find them); a service called with one anyway refuses the act, a 403.
    policy.check(policy.resident_staff(user))
    policy.check(policy.same_office(user, resident), "この住民の手続はできません。")


@service
def fee_waiver_request(
    *, acting_user: User, resident: Resident, fee_row: FeeRow, reason: str
) -> FeeWaiver:
    """The clerk records why a fee is waived "not due to the holder" (R-REI-3)."""
    _require_office_staff(acting_user, resident)
    if fee_row not in FEE_ROWS_NEEDING_APPROVAL:
        raise ValidationError(f"「{fee_row.label}」は免除の承認を要する区分ではありません。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"waiver_reason": "手数料を免除する理由を入力してください。"})
    return FeeWaiver.objects.create(
        office_id=resident.office_id,
        resident=resident,
        fee_row=fee_row,
        reason=reason,
        requested_by=acting_user,
        requested_at=timezone.now(),
    )


@service
def fee_waiver_approve(*, acting_user: User, waiver: FeeWaiver) -> FeeWaiver:
    """A supervisor of the same office, not the requester, approves the waiver (R-REI-3).

    The same rule as the screen's button (policy.may_approve_waiver); the requester gets a
    message saying why rather than a bare refusal.
    """
    policy.check(policy.may_approve_waivers(acting_user), _SUPERVISORS_ONLY)
    waiver = FeeWaiver.objects.select_for_update().get(pk=waiver.pk)
    policy.check(policy.same_office(acting_user, waiver), "他の庁舎の免除は承認できません。")
    if waiver.approved:
        raise ValidationError("この免除は既に承認されています。")
    if not policy.may_approve_waiver(acting_user, waiver):
        # Role and office passed above, so what is left is the four-eyes rule.
        raise ValidationError(
            "免除を申し出た職員本人は承認できません。別の監督者が承認してください。"
        )
    waiver.approved_by = acting_user
    waiver.approved_at = timezone.now()
    waiver.save(update_fields=["approved_by", "approved_at"])
    return waiver


# --- payments and receipts ----------------------------------------------------------------------


def _next_receipt_number(*, office_id: uuid.UUID, fiscal_year: int) -> int:
    """Hand out the next receipt number of an office's fiscal year; call inside the payment's
    transaction.

    The counter row is created if missing (ON CONFLICT DO NOTHING: a concurrent creator makes
    us wait, then we see its row), then locked with SELECT … FOR UPDATE until the payment
    commits or rolls back. Concurrent counters queue here; a rollback returns the number.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ReceiptCounter._meta.db_table} (office_id, fiscal_year, last_number) "  # noqa: S608 - table name from the model
            "VALUES (%s, %s, 0) ON CONFLICT (office_id, fiscal_year) DO NOTHING",
            [office_id, fiscal_year],
        )
    receipt_counter = ReceiptCounter.objects.select_for_update().get(
        office_id=office_id, fiscal_year=fiscal_year
    )
    receipt_counter.last_number += 1
    receipt_counter.save(update_fields=["last_number"])
    return receipt_counter.last_number


@service
def payment_record(
    *,
    acting_user: User,
    resident: Resident,
    quote: FeeQuote,
    method: PaymentMethod | str = PaymentMethod.CASH,
    on: date | None = None,
) -> Payment:
    """Take the fee of ``quote`` at the acting user's counter and number its receipt.

    The receipt number is gapless per office and fiscal year (April–March) even with many
    counters at once: see ``_next_receipt_number``. A counter whose day is closed takes no
    more payments for that day.
    """
    _require_office_staff(acting_user, resident)
    if quote.amount_yen <= 0:
        raise ValidationError("手数料が0円の手続には領収の記録は不要です。")
    if method not in PaymentMethod.values:
        raise ValidationError({"method": "支払方法を選択してください。"})
    if acting_user.counter_id is None:
        raise ValidationError("担当窓口が設定されていないため、手数料を領収できません。")
    # The counter row is the lock that orders payments against the day's close.
    counter = Counter.objects.select_for_update().get(pk=acting_user.counter_id)
    if counter.office_id != acting_user.office_id:
        raise ValidationError("担当窓口が所属庁舎の窓口ではありません。")
    business_date = on or timezone.localdate()
    if DailyClose.objects.filter(counter=counter, business_date=business_date).exists():
        raise ValidationError(
            f"{counter.name}の{format_both(business_date)}の日計は締め済みのため、領収できません。"
        )
    fiscal_year = fiscal_year_of(business_date)
    number = _next_receipt_number(office_id=counter.office_id, fiscal_year=fiscal_year)
    return Payment.objects.create(
        office_id=counter.office_id,
        counter=counter,
        fiscal_year=fiscal_year,
        receipt_number=number,
        resident=resident,
        fee_row=quote.row,
        schedule_id=quote.schedule_id,
        amount_yen=quote.amount_yen,
        method=method,
        business_date=business_date,
        received_by=acting_user,
        received_at=timezone.now(),
    )


@service
def payment_void(*, acting_user: User, payment: Payment, reason: str) -> PaymentVoid:
    """A supervisor cancels a payment with a reason. Nothing is deleted; the number stays used."""
    policy.check(policy.may_void_payments(acting_user), _SUPERVISORS_ONLY)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    policy.check(policy.same_office(acting_user, payment), "他の庁舎の領収は取り消せません。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "取消の理由を入力してください。"})
    if PaymentVoid.objects.filter(payment=payment).exists():
        raise ValidationError("この領収は既に取り消されています。")
    return PaymentVoid.objects.create(
        payment=payment, reason=reason, voided_by=acting_user, voided_at=timezone.now()
    )


def payment_is_settled(payment: Payment | None) -> bool:
    """A payment that exists and has not been voided."""
    return payment is not None and not PaymentVoid.objects.filter(payment_id=payment.pk).exists()


# --- daily close ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloseLine:
    row: FeeRow
    count: int
    total_yen: int


@dataclass(frozen=True, slots=True)
class CloseTotals:
    """What a counter's payments of a day add up to (voided payments left out)."""

    lines: tuple[CloseLine, ...]
    cash_total_yen: int
    cashless_total_yen: int
    payments_count: int
    voided_count: int


def close_totals(*, counter: Counter, business_date: date) -> CloseTotals:
    """Cash by fee row for one counter and day; cashless payments are totalled apart."""
    payments = Payment.objects.filter(counter=counter, business_date=business_date)
    voided_ids = set(
        PaymentVoid.objects.filter(payment__in=payments).values_list("payment_id", flat=True)
    )
    by_row: dict[FeeRow, list[int]] = {}
    cashless = 0
    count = 0
    for payment_id, row, amount, method in payments.values_list(
        "id", "fee_row", "amount_yen", "method"
    ):
        count += 1
        if payment_id in voided_ids:
            continue
        if method == PaymentMethod.CASH:
            by_row.setdefault(FeeRow(row), []).append(amount)
        else:
            cashless += amount
    lines = tuple(
        CloseLine(row=row, count=len(amounts), total_yen=sum(amounts))
        for row, amounts in sorted(by_row.items(), key=lambda item: list(FeeRow).index(item[0]))
    )
    return CloseTotals(
        lines=lines,
        cash_total_yen=sum(line.total_yen for line in lines),
        cashless_total_yen=cashless,
        payments_count=count,
        voided_count=len(voided_ids),
    )


@service
def daily_close_record(
    *,
    acting_user: User,
    counter: Counter,
    business_date: date,
    counted_cash_yen: int,
    note: str = "",
    today: date | None = None,
) -> DailyClose:
    """Close a counter's day: total the cash by fee row, compare with the cash counted.

    A difference is recorded and flagged (``DailyClose.has_difference``), not refused: the
    count is a fact, and hiding it would be worse. A difference needs a note saying what is
    known about it. The counter row is locked so no payment slips in while closing.
    """
    policy.check(policy.resident_staff(acting_user))
    counter = Counter.objects.select_for_update().get(pk=counter.pk)
    policy.check(policy.may_close_counter(acting_user, counter), "他の庁舎の窓口は締められません。")
    if business_date > (today or timezone.localdate()):
        raise ValidationError({"business_date": "未来の日付の日計は締められません。"})
    if counted_cash_yen < 0:
        raise ValidationError({"counted_cash_yen": "現金の実査額は0円以上で入力してください。"})
    if DailyClose.objects.filter(counter=counter, business_date=business_date).exists():
        raise ValidationError(f"{counter.name}の{format_both(business_date)}の日計は締め済みです。")
    totals = close_totals(counter=counter, business_date=business_date)
    note = note.strip()
    if counted_cash_yen != totals.cash_total_yen and not note:
        raise ValidationError(
            {"note": "現金の実査額が領収額と一致しません。差額について備考に記入してください。"}
        )
    close = DailyClose.objects.create(
        office_id=counter.office_id,
        counter=counter,
        business_date=business_date,
        expected_cash_yen=totals.cash_total_yen,
        counted_cash_yen=counted_cash_yen,
        cashless_total_yen=totals.cashless_total_yen,
        payments_count=totals.payments_count,
        voided_count=totals.voided_count,
        note=note,
        closed_by=acting_user,
        closed_at=timezone.now(),
    )
    DailyCloseLine.objects.bulk_create(
        DailyCloseLine(close=close, fee_row=line.row, count=line.count, total_yen=line.total_yen)
        for line in totals.lines
    )
    return close
