"""Fees: the effective-dated schedule, waivers, payments with gapless receipts, daily close.

What must stay true:
- The schedule is data (R-REI-3). A schedule row and its amounts never change once written; a
  new schedule with a later start date supersedes it (database triggers refuse UPDATE/DELETE).
- A payment is never edited or deleted (triggers again); a mistake is corrected by a void row
  written by a supervisor with a reason. The one change a payment row accepts is its
  ``voided`` flag going from false to true, in the void's own transaction: the flag is what
  lets the database itself keep "one payment per fee". Voided receipt numbers stay used: the
  sequence has no gaps and no reuse.
- Receipt numbers are unique per office and fiscal year (a constraint backs the locking in
  services.payment_record).
- At most one payment that is not voided per application (``payment_one_settling_per_application``)
  and one payment per submission (``payment_idempotency_key_unique``): a double click, a second
  tab or a retried request can never take a fee twice.
- A counter closes a day once; a supervisor may reopen that close with a reason (the close
  row records who and why), and only the close that has not been reopened counts
  (``dailyclose_once_per_counter_day``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models

from apps.core.choices import choices_of
from apps.core.wareki import fiscal_year_name
from apps.fees.rules import FeeRow, Procedure, ReissueReason, VoidOutcome

FEE_ROW_CHOICES = choices_of(FeeRow)
PROCEDURE_CHOICES = choices_of(Procedure)
REISSUE_REASON_CHOICES = choices_of(ReissueReason)

_append_only = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
_no_delete = pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete)


class _UnlessFirstFill(pgtrigger.Condition):
    """True for every UPDATE except the one that fills ``fields`` in for the first time.

    Used with Protect: an append-only row may take exactly one later write (a void flag, a
    reopening), and only while ``first_sql`` holds for the old row and ``filled_sql`` for the
    new one; any change to another column, or a second fill, is refused by the database.
    """

    def __init__(self, *, fields: Sequence[str], first_sql: str, filled_sql: str) -> None:
        self.fields = list(fields)
        self.first_sql = first_sql
        self.filled_sql = filled_sql
        super().__init__(sql="(resolved per model)")

    def resolve(self, model: type[models.Model]) -> str:
        others = pgtrigger.AnyChange(exclude=self.fields).resolve(model)
        return f"(({others}) OR NOT ({self.first_sql}) OR NOT ({self.filled_sql}))"


def schedule_digest(*, amounts: Mapping[str, int], note: str) -> str:
    """SHA-256 of a schedule's amounts and note: two schedules with the same start date and
    the same digest are the same schedule entered twice (a replayed form or request)."""
    body = json.dumps(
        {
            "amounts": {str(row): int(amount) for row, amount in sorted(amounts.items())},
            "note": note.strip(),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@pgtrigger.register(_append_only)
class FeeSchedule(models.Model):
    """The fee amounts in force from ``starts_on`` until the next schedule starts (R-REI-3).

    If two schedules share a start date, the one created later wins: that is how a supervisor
    corrects a future schedule without editing history.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    starts_on = models.DateField("適用開始日")
    note = models.CharField("備考", max_length=200, blank=True)
    # schedule_digest(amounts, note): refuses the same schedule twice for one start date.
    amounts_digest = models.CharField("内容のSHA-256", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登録者",
    )
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        verbose_name = "手数料表"
        verbose_name_plural = "手数料表"
        ordering = ["-starts_on", "-created_at"]
        indexes = [models.Index(fields=["-starts_on", "-created_at"], name="feeschedule_in_force")]
        constraints = [
            # A replayed "add a schedule" must not create a second identical schedule; a
            # correction (other amounts or another note) for the same date is still allowed.
            models.UniqueConstraint(
                fields=["starts_on", "amounts_digest"], name="feeschedule_not_twice"
            ),
        ]

    def __str__(self) -> str:
        return f"手数料表 {self.starts_on.isoformat()}〜"


@pgtrigger.register(_append_only)
class FeeAmount(models.Model):
    """One row of the R-REI table with its amount in one schedule."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="amounts")
    row = models.CharField("区分", max_length=40, choices=FEE_ROW_CHOICES)
    amount_yen = models.PositiveIntegerField("金額(円)")

    class Meta:
        verbose_name = "手数料額"
        verbose_name_plural = "手数料額"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "row"], name="feeamount_one_per_row"),
            models.CheckConstraint(
                condition=models.Q(row__in=[row.value for row in FeeRow]),
                name="feeamount_row_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{FeeRow(self.row).label}: {self.amount_yen:,}円"


@pghistory.track()
class FeeWaiver(models.Model):
    """A fee waived on the clerk's judgement ("not due to the holder"): R-REI-3.

    The clerk records the reason; a supervisor of the same office, not the clerk who asked,
    approves it. Until then the procedure cannot go ahead.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="+", verbose_name="住民"
    )
    fee_row = models.CharField("区分", max_length=40, choices=FEE_ROW_CHOICES)
    reason = models.TextField("免除の理由")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申出者"
    )
    requested_at = models.DateTimeField("申出日時")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承認者",
    )
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)

    class Meta:
        verbose_name = "手数料の免除"
        verbose_name_plural = "手数料の免除"
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="feewaiver_has_reason"),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True, approved_at__isnull=True)
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="feewaiver_approval_complete",
            ),
            # Four eyes: nobody approves their own waiver.
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("requested_by")),
                name="feewaiver_not_self_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{FeeRow(self.fee_row).label}の免除"

    @property
    def approved(self) -> bool:
        return self.approved_by_id is not None


class ReceiptCounter(models.Model):
    """The last receipt number used by an office in a fiscal year.

    services.payment_record locks this row (SELECT … FOR UPDATE) in the payment's own
    transaction, so numbers are handed out one at a time and a rolled-back payment gives its
    number back: no duplicates, no gaps.
    """

    office = models.ForeignKey("accounts.Office", on_delete=models.PROTECT, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField("会計年度")
    last_number = models.PositiveIntegerField("最終番号", default=0)

    class Meta:
        verbose_name = "領収番号の採番"
        verbose_name_plural = "領収番号の採番"
        constraints = [
            models.UniqueConstraint(
                fields=["office", "fiscal_year"], name="receiptcounter_one_per_office_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.fiscal_year}: {self.last_number}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "現金"
    CASHLESS = "cashless", "キャッシュレス決済"


@pgtrigger.register(
    _no_delete,
    pgtrigger.Protect(
        name="append_only_but_void",
        operation=pgtrigger.Update,
        condition=_UnlessFirstFill(
            fields=["voided"], first_sql="NOT OLD.voided", filled_sql="NEW.voided"
        ),
    ),
)
class Payment(models.Model):
    """One fee taken at a counter, with its receipt number. Never deleted; the only change
    it accepts is ``voided`` becoming true, written with its PaymentVoid row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    counter = models.ForeignKey(
        "accounts.Counter", on_delete=models.PROTECT, related_name="+", verbose_name="窓口"
    )
    fiscal_year = models.PositiveSmallIntegerField("会計年度")
    receipt_number = models.PositiveIntegerField("領収番号")
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="+", verbose_name="納付者"
    )
    # The fee this payment settles. Null only for payments taken before payments pointed at
    # their application (and the receipts a double click left without one).
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name="申請",
        db_index=False,  # payment_application covers it
    )
    # The row is stored; its rule text and citation come from apps.fees.rules (FeeRow.rule).
    fee_row = models.CharField("区分", max_length=40, choices=FEE_ROW_CHOICES)
    schedule = models.ForeignKey(
        FeeSchedule, on_delete=models.PROTECT, related_name="+", verbose_name="手数料表"
    )
    amount_yen = models.PositiveIntegerField("金額(円)")
    method = models.CharField(
        "支払方法", max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    business_date = models.DateField("領収日")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="取扱者"
    )
    received_at = models.DateTimeField("領収日時")
    # One submission (a form shown once, an API request with its Idempotency-Key) takes one
    # payment: the retry finds this row and gets the same receipt back.
    idempotency_key = models.CharField("送信キー", max_length=64, blank=True)
    # Written once, with the PaymentVoid row (see the trigger above).
    voided = models.BooleanField("取消済", default=False)

    class Meta:
        verbose_name = "手数料の領収"
        verbose_name_plural = "手数料の領収"
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["counter", "business_date"], name="payment_counter_day"),
            models.Index(fields=["office", "business_date"], name="payment_office_day"),
            models.Index(fields=["application"], name="payment_application"),
        ]
        constraints = [
            # One fee, one payment: a second payment for the same application is refused by
            # the database whatever the code above it does.
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(voided=False, application__isnull=False),
                name="payment_one_settling_per_application",
            ),
            models.UniqueConstraint(
                fields=["received_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["office", "fiscal_year", "receipt_number"],
                name="payment_receipt_number_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_yen__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(receipt_number__gt=0), name="payment_receipt_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_label

    @property
    def receipt_label(self) -> str:
        """令和8年度 第000012号 — numbered per office, so the office's name goes with it."""
        return f"{fiscal_year_name(self.fiscal_year)} 第{self.receipt_number:06d}号"

    @property
    def fee_row_label(self) -> str:
        return FeeRow(self.fee_row).label

    @property
    def fee_rule(self) -> str:
        """The R-REI table row that decided the amount (from the stored row)."""
        return FeeRow(self.fee_row).rule

    @property
    def is_voided(self) -> bool:
        return self.voided


VOID_OUTCOME_CHOICES = choices_of(VoidOutcome)


@pgtrigger.register(_append_only)
class PaymentVoid(models.Model):
    """The cancellation of a payment: by a supervisor, with a reason and what happens to the
    application it settled (VoidOutcome); the payment stays."""

    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="void", verbose_name="領収"
    )
    reason = models.TextField("取消の理由")
    # Blank only on voids recorded before the outcome was asked for.
    outcome = models.CharField(
        "申請の扱い", max_length=16, choices=VOID_OUTCOME_CHOICES, blank=True
    )
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="取消者"
    )
    voided_at = models.DateTimeField("取消日時")

    class Meta:
        verbose_name = "領収の取消"
        verbose_name_plural = "領収の取消"
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="paymentvoid_has_reason"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["", *(outcome.value for outcome in VoidOutcome)]),
                name="paymentvoid_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment} の取消"

    @property
    def outcome_label(self) -> str:
        return VoidOutcome(self.outcome).label if self.outcome else "（記録なし）"

    @property
    def outcome_short_label(self) -> str:
        return VoidOutcome(self.outcome).short_label if self.outcome else "（記録なし）"


@pghistory.track()
@pgtrigger.register(
    _no_delete,
    pgtrigger.Protect(
        name="append_only_but_reopen",
        operation=pgtrigger.Update,
        condition=_UnlessFirstFill(
            fields=["reopened_at", "reopened_by", "reopen_reason"],
            first_sql="OLD.reopened_at IS NULL",
            filled_sql=(
                "NEW.reopened_at IS NOT NULL AND NEW.reopened_by_id IS NOT NULL "
                "AND NEW.reopen_reason <> ''"
            ),
        ),
    ),
)
class DailyClose(models.Model):
    """The end-of-day cash count of one counter: what the payments say against what is there.

    Once closed, the counter takes no more payments dated that day and no payment of that
    day can be voided. A supervisor may reopen the close with a reason (the row keeps who,
    when and why; its history records the change) so that a correction is made and the day
    closed again; the reopened row stays, and only the close not reopened counts.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    counter = models.ForeignKey(
        "accounts.Counter", on_delete=models.PROTECT, related_name="+", verbose_name="窓口"
    )
    business_date = models.DateField("業務日")
    expected_cash_yen = models.PositiveIntegerField("現金の領収額(円)")
    counted_cash_yen = models.PositiveIntegerField("現金の実査額(円)")
    cashless_total_yen = models.PositiveIntegerField("キャッシュレスの領収額(円)", default=0)
    payments_count = models.PositiveIntegerField("領収件数")
    voided_count = models.PositiveIntegerField("取消件数")
    voided_total_yen = models.PositiveIntegerField("取消額(円)", default=0)
    note = models.TextField("備考", blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="締め者"
    )
    closed_at = models.DateTimeField("締め日時")
    reopened_at = models.DateTimeField("再開日時", null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="再開者",
    )
    reopen_reason = models.TextField("再開の理由", blank=True)

    class Meta:
        verbose_name = "日計"
        verbose_name_plural = "日計"
        ordering = ["-business_date", "counter__code", "-closed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["counter", "business_date"],
                condition=models.Q(reopened_at__isnull=True),
                name="dailyclose_once_per_counter_day",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    reopened_at__isnull=True, reopened_by__isnull=True, reopen_reason=""
                )
                | (
                    models.Q(reopened_at__isnull=False, reopened_by__isnull=False)
                    & ~models.Q(reopen_reason="")
                ),
                name="dailyclose_reopen_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_date.isoformat()} の日計"

    @property
    def difference_yen(self) -> int:
        """Counted minus expected: positive is a surplus, negative a shortage."""
        return self.counted_cash_yen - self.expected_cash_yen

    @property
    def has_difference(self) -> bool:
        return self.difference_yen != 0

    @property
    def is_reopened(self) -> bool:
        return self.reopened_at is not None


@pgtrigger.register(_append_only)
class DailyCloseLine(models.Model):
    """Cash taken for one fee row at the close (voided payments excluded)."""

    close = models.ForeignKey(DailyClose, on_delete=models.PROTECT, related_name="lines")
    fee_row = models.CharField("区分", max_length=40, choices=FEE_ROW_CHOICES)
    count = models.PositiveIntegerField("件数")
    total_yen = models.PositiveIntegerField("金額(円)")

    class Meta:
        verbose_name = "日計の内訳"
        verbose_name_plural = "日計の内訳"
        ordering = ["fee_row"]
        constraints = [
            models.UniqueConstraint(fields=["close", "fee_row"], name="dailycloseline_one_per_row")
        ]

    def __str__(self) -> str:
        return f"{FeeRow(self.fee_row).label}: {self.count}件 {self.total_yen:,}円"
