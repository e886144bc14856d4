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
from django.db import IntegrityError, connection, transaction
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
    schedule_digest,
)
from apps.fees.rules import (
    DEFAULT_FEE_AMOUNTS,
    EXPRESS_STARTS_ON,
    FEE_ROWS_NEEDING_APPROVAL,
    MAX_COUNTED_CASH_YEN,
    MAX_FEE_YEN,
    FeeRow,
    Procedure,
    ReissueReason,
    VoidOutcome,
    business_date_problem,
    fee_row_for,
    fiscal_year_of,
)
from apps.residents.models import Resident

SEED_DEFAULT = SystemActor("fees.seed_default_schedule")
_SUPERVISORS_ONLY = "監督者のみが行える操作です。"

# Free text a supervisor or clerk writes on a correction: enough for a paragraph, bounded.
MAX_REASON_CHARS = 500
MAX_NOTE_CHARS = 1000
MAX_IDEMPOTENCY_KEY_CHARS = 64


def _constraint_of(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


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
    express: bool = False,
) -> FeeQuote:
    """The fee for a procedure on ``on`` (R-REI table, R-REI-2, R-REI-3; R-EXP-2 if ``express``).

    An express quote for a day before express issuance came into force (2024-12-02, R-EXP-1)
    is a ``ValidationError``.

    The row comes from the pure classification (apps.fees.rules.fee_row_for), the amount from
    the schedule in force that day, never from a constant (R-REI-3). Impossible combinations
    (a reissue without a reason, a damaged card not returned, …) are a ``ValidationError``
    with the rule's Japanese message.
    """
    if express and on < EXPRESS_STARTS_ON:
        raise ValidationError(f"特急発行は{format_both(EXPRESS_STARTS_ON)}から受け付けています。")
    try:
        row = fee_row_for(
            procedure=procedure,
            reason=reason,
            with_certificates=with_certificates,
            old_card_returned=old_card_returned,
            express=express,
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
    The same schedule (same start, amounts and note) entered twice, a replayed form or
    request, is refused: the constraint ``feeschedule_not_twice`` backs the check.
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
    note = note.strip()
    if len(note) > 200:
        raise ValidationError({"note": "備考は200文字以内で入力してください。"})
    digest = schedule_digest(amounts={row.value: amounts[row] for row in FeeRow}, note=note)
    same = _same_schedule_message(starts_on)
    if FeeSchedule.objects.filter(starts_on=starts_on, amounts_digest=digest).exists():
        raise ValidationError(same)
    try:
        with transaction.atomic():
            schedule = FeeSchedule.objects.create(
                starts_on=starts_on, note=note, amounts_digest=digest, created_by=acting_user
            )
    except IntegrityError as exc:
        # A replay racing the first submission: the unique index settles it.
        if _constraint_of(exc) != "feeschedule_not_twice":
            raise
        raise ValidationError(same) from None
    FeeAmount.objects.bulk_create(
        FeeAmount(schedule=schedule, row=row, amount_yen=amounts[row]) for row in FeeRow
    )
    return schedule


def _same_schedule_message(starts_on: date) -> str:
    return (
        f"{format_both(starts_on)}から適用する同じ内容（金額・備考）の手数料表が既に登録されています。"
        "二重に登録していないか、手数料表の一覧で確かめてください。"
    )


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
    note = "ガイドブック記載の手数料（初期データ）"
    digest = schedule_digest(
        amounts={row.value: amount for row, amount in DEFAULT_FEE_AMOUNTS.items()}, note=note
    )
    schedule = FeeSchedule.objects.create(starts_on=starts_on, note=note, amounts_digest=digest)
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


def current_close(*, counter_id: uuid.UUID, business_date: date) -> DailyClose | None:
    """The close of a counter's day that counts: recorded and not reopened."""
    return DailyClose.objects.filter(
        counter_id=counter_id, business_date=business_date, reopened_at__isnull=True
    ).first()


def _closed_message(counter: Counter, business_date: date, what: str) -> str:
    return f"{counter.name}の{format_both(business_date)}の日計は締め済みのため、{what}"


def _clean_idempotency_key(key: str) -> str:
    key = key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not all(
        char.isascii() and (char.isalnum() or char in "-_.:") for char in key
    ):
        raise ValidationError(
            {
                "idempotency_key": (
                    f"送信キーは{MAX_IDEMPOTENCY_KEY_CHARS}文字以内の英数字と - _ . : "
                    "で指定してください。"
                )
            }
        )
    return key


def payment_for_submission(*, acting_user: User, idempotency_key: str) -> Payment | None:
    """The payment a submission already took, if any (a retried request finds its receipt)."""
    if not idempotency_key:
        return None
    return (
        Payment.objects.filter(received_by=acting_user, idempotency_key=idempotency_key)
        .select_related("office", "counter")
        .first()
    )


@service
def payment_record(
    *,
    acting_user: User,
    resident: Resident,
    quote: FeeQuote,
    method: PaymentMethod | str = PaymentMethod.CASH,
    on: date | None = None,
    application_id: uuid.UUID | None = None,
    idempotency_key: str = "",
) -> Payment:
    """Take the fee of ``quote`` at the acting user's counter and number its receipt.

    The receipt number is gapless per office and fiscal year (April–March) even with many
    counters at once: see ``_next_receipt_number``. A counter whose day is closed takes no
    more payments for that day. The payment points at the application whose fee it settles;
    the database keeps one payment that is not voided per application and one per
    submission (``idempotency_key``), so a second one rolls back with a clear message and
    gives its receipt number back.
    """
    _require_office_staff(acting_user, resident)
    if quote.amount_yen <= 0:
        raise ValidationError("手数料が0円の手続には領収の記録は不要です。")
    if method not in PaymentMethod.values:
        raise ValidationError({"method": "支払方法を選択してください。"})
    idempotency_key = _clean_idempotency_key(idempotency_key)
    if acting_user.counter_id is None:
        raise ValidationError("担当窓口が設定されていないため、手数料を領収できません。")
    # The counter row is the lock that orders payments against the day's close.
    counter = Counter.objects.select_for_update().get(pk=acting_user.counter_id)
    if counter.office_id != acting_user.office_id:
        raise ValidationError("担当窓口が所属庁舎の窓口ではありません。")
    business_date = on or timezone.localdate()
    if current_close(counter_id=counter.pk, business_date=business_date) is not None:
        raise ValidationError(_closed_message(counter, business_date, "領収できません。"))
    fiscal_year = fiscal_year_of(business_date)
    number = _next_receipt_number(office_id=counter.office_id, fiscal_year=fiscal_year)
    try:
        with transaction.atomic():
            return Payment.objects.create(
                office_id=counter.office_id,
                counter=counter,
                fiscal_year=fiscal_year,
                receipt_number=number,
                resident=resident,
                application_id=application_id,
                fee_row=quote.row,
                schedule_id=quote.schedule_id,
                amount_yen=quote.amount_yen,
                method=method,
                business_date=business_date,
                received_by=acting_user,
                received_at=timezone.now(),
                idempotency_key=idempotency_key,
            )
    except IntegrityError as exc:
        constraint = _constraint_of(exc)
        if constraint == "payment_one_settling_per_application":
            raise ValidationError("この申請の手数料は領収済です。") from None
        if constraint == "payment_idempotency_key_unique":
            raise ValidationError("この送信は既に領収として記録されています。") from None
        raise


@service
def payment_void(
    *,
    acting_user: User,
    payment: Payment,
    reason: str,
    outcome: VoidOutcome | str = VoidOutcome.REFUND_CANCEL,
) -> PaymentVoid:
    """A supervisor cancels a payment with a reason. Nothing is deleted; the number stays used.

    The void counts in the close of the payment's own counter and day (the payment leaves
    that day's cash, the money goes back to the payer). A day that is closed must first be
    reopened by a supervisor (``daily_close_reopen``), so a close never disagrees with the
    payments it counted. ``outcome`` records what the supervisor chose for the application;
    apps.applications carries it out (``application_payment_void``).
    """
    policy.check(policy.may_void_payments(acting_user), _SUPERVISORS_ONLY)
    try:
        outcome = VoidOutcome(outcome)
    except ValueError:
        raise ValidationError({"outcome": "取消後の申請の扱いを選んでください。"}) from None
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "取消の理由を入力してください。"})
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            {"reason": f"取消の理由は{MAX_REASON_CHARS}文字以内で入力してください。"}
        )
    # Lock order as in payment_record: the counter (against the close), then the payment.
    counter_id = Payment.objects.filter(pk=payment.pk).values_list("counter_id", flat=True).get()
    counter = Counter.objects.select_for_update().get(pk=counter_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    policy.check(policy.same_office(acting_user, payment), "他の庁舎の領収は取り消せません。")
    if payment.voided or PaymentVoid.objects.filter(payment=payment).exists():
        raise ValidationError("この領収は既に取り消されています。")
    if current_close(counter_id=counter.pk, business_date=payment.business_date) is not None:
        raise ValidationError(
            _closed_message(
                counter,
                payment.business_date,
                "取り消せません。監督者が日計を再開してから取り消してください。",
            )
        )
    void = PaymentVoid.objects.create(
        payment=payment,
        reason=reason,
        outcome=outcome,
        voided_by=acting_user,
        voided_at=timezone.now(),
    )
    # The one write a payment row accepts (see the trigger on Payment).
    Payment.objects.filter(pk=payment.pk).update(voided=True)
    payment.voided = True
    return void


def payment_is_settled(payment: Payment | None) -> bool:
    """A payment that exists and has not been voided."""
    return payment is not None and not payment.voided


# --- daily close ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloseLine:
    row: FeeRow
    count: int
    total_yen: int


@dataclass(frozen=True, slots=True)
class CloseVoid:
    """A payment of the day that was voided: left out of the cash, listed on the close."""

    receipt_label: str
    amount_yen: int
    method_label: str
    outcome_label: str
    reason: str


@dataclass(frozen=True, slots=True)
class CloseTotals:
    """What a counter's payments of a day add up to (voided payments left out)."""

    lines: tuple[CloseLine, ...]
    cash_total_yen: int
    cashless_total_yen: int
    payments_count: int
    voided_count: int
    voided_total_yen: int = 0
    voids: tuple[CloseVoid, ...] = ()


def close_totals(*, counter: Counter, business_date: date) -> CloseTotals:
    """Cash by fee row for one counter and day; cashless payments are totalled apart.

    A voided payment is left out of the day it was taken (the money went back from that
    drawer; a void of a closed day needs the close reopened first, see ``payment_void``).
    """
    payments = (
        Payment.objects.filter(counter=counter, business_date=business_date)
        .select_related("void")
        .order_by("receipt_number")
    )
    by_row: dict[FeeRow, list[int]] = {}
    cashless = 0
    count = 0
    voids: list[CloseVoid] = []
    for payment in payments:
        count += 1
        if payment.voided:
            void = getattr(payment, "void", None)
            voids.append(
                CloseVoid(
                    receipt_label=payment.receipt_label,
                    amount_yen=payment.amount_yen,
                    method_label=payment.get_method_display(),
                    outcome_label=void.outcome_short_label if void else "",
                    reason=void.reason if void else "",
                )
            )
            continue
        if payment.method == PaymentMethod.CASH:
            by_row.setdefault(FeeRow(payment.fee_row), []).append(payment.amount_yen)
        else:
            cashless += payment.amount_yen
    lines = tuple(
        CloseLine(row=row, count=len(amounts), total_yen=sum(amounts))
        for row, amounts in sorted(by_row.items(), key=lambda item: list(FeeRow).index(item[0]))
    )
    return CloseTotals(
        lines=lines,
        cash_total_yen=sum(line.total_yen for line in lines),
        cashless_total_yen=cashless,
        payments_count=count,
        voided_count=len(voids),
        voided_total_yen=sum(void.amount_yen for void in voids),
        voids=tuple(voids),
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

    A clerk closes their own counter, a supervisor any counter of the office. The day is
    today or a few days back (``CORRECTION_DAYS``). A difference is recorded and flagged
    (``DailyClose.has_difference``), not refused: the count is a fact, and hiding it would be
    worse. A difference needs a note saying what is known about it. The counter row is
    locked so no payment or void slips in while closing, and a second close of the same day
    (a double submit, a clerk and a supervisor at once) waits, then gets a clear message.
    """
    policy.check(policy.resident_staff(acting_user))
    counter = Counter.objects.select_for_update().get(pk=counter.pk)
    policy.check(policy.same_office(acting_user, counter), "他の庁舎の窓口は締められません。")
    policy.check(
        policy.may_close_counter(acting_user, counter),
        "担当する窓口の日計だけを締められます。他の窓口は監督者が締めます。",
    )
    problem = business_date_problem(business_date, today=today or timezone.localdate())
    if problem:
        raise ValidationError({"business_date": problem})
    if not 0 <= counted_cash_yen <= MAX_COUNTED_CASH_YEN:
        raise ValidationError(
            {
                "counted_cash_yen": (
                    f"現金の実査額は0円以上{MAX_COUNTED_CASH_YEN:,}円以下で入力してください。"
                )
            }
        )
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError({"note": f"備考は{MAX_NOTE_CHARS}文字以内で入力してください。"})
    if current_close(counter_id=counter.pk, business_date=business_date) is not None:
        raise ValidationError(f"{counter.name}の{format_both(business_date)}の日計は締め済みです。")
    totals = close_totals(counter=counter, business_date=business_date)
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
        voided_total_yen=totals.voided_total_yen,
        note=note,
        closed_by=acting_user,
        closed_at=timezone.now(),
    )
    DailyCloseLine.objects.bulk_create(
        DailyCloseLine(close=close, fee_row=line.row, count=line.count, total_yen=line.total_yen)
        for line in totals.lines
    )
    return close


@service
def daily_close_reopen(
    *, acting_user: User, close: DailyClose, reason: str, today: date | None = None
) -> DailyClose:
    """A supervisor reopens a counter's close, with a reason, so a correction can be made.

    The close row stays (it records who reopened it, when and why, and its history row the
    change); the counter may then take payments and voids for that day again and is closed
    anew. Only closes within the correction window can be reopened (``CORRECTION_DAYS``).
    """
    policy.check(policy.may_reopen_closes(acting_user), "日計の再開は監督者のみが行えます。")
    # The counter first (ordering the reopening against payments, voids and closes), then
    # the close row, loaded after its lock is held.
    counter_id = DailyClose.objects.filter(pk=close.pk).values_list("counter_id", flat=True).get()
    Counter.objects.select_for_update().get(pk=counter_id)
    close = DailyClose.objects.select_for_update().get(pk=close.pk)
    policy.check(policy.may_reopen_close(acting_user, close), "他の庁舎の日計は再開できません。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "再開の理由を入力してください。"})
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            {"reason": f"再開の理由は{MAX_REASON_CHARS}文字以内で入力してください。"}
        )
    if close.is_reopened:
        raise ValidationError("この日計は既に再開されています。")
    problem = business_date_problem(close.business_date, today=today or timezone.localdate())
    if problem:
        raise ValidationError(problem.replace("締められません", "再開できません"))
    close.reopened_at = timezone.now()
    close.reopened_by = acting_user
    close.reopen_reason = reason
    # The one write a close row accepts (see the trigger on DailyClose).
    close.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    return close
