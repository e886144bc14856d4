"""Counter applications and the arrival files from J-LIS.

An Application is written only by apps.applications.services (and, set-based, by the
arrivals import); every change leaves a history row through django-pghistory's triggers.
"""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.applications.rules import (
    CARD_KINDS,
    OPEN_STATES,
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    ExpressReason,
    IdentityDocument,
    NotificationCardStatus,
)
from apps.core.choices import choices_of
from apps.fees.models import FEE_ROW_CHOICES, REISSUE_REASON_CHOICES
from apps.fees.rules import FeeRow, ReissueReason

# The one definition of each list of choices; forms and serializers import these.
KIND_CHOICES = choices_of(ApplicationKind)
STATE_CHOICES = choices_of(ApplicationState)
APPLICANT_CHOICES = choices_of(ApplicantType)
DOCUMENT_CHOICES = choices_of(IdentityDocument)
REASON_CHOICES = REISSUE_REASON_CHOICES
NOTIFICATION_CARD_CHOICES = choices_of(NotificationCardStatus)
EXPRESS_REASON_CHOICES = choices_of(ExpressReason)

_R = ReissueReason
# Kinds without a row in the fee table (the lock release, the lifting, the return).
NO_FEE_KINDS = sorted(kind.value for kind in ApplicationKind if kind.procedure is None)


@pghistory.track()
class Application(models.Model):
    """One counter procedure for one resident: what was asked, checked, charged and done.

    Indexes: rows are found by id, by resident, by office and state, and by their new card
    (the arrivals import). The other foreign keys are never searched from (users, cards and
    fee rows are never deleted), so they carry no index: a 100,000-line arrivals file updates
    every index of every application it moves, and of its history row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("手続", max_length=32, choices=KIND_CHOICES)
    state = models.CharField("状態", max_length=16, choices=STATE_CHOICES)
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name="住民",
        db_index=False,  # application_resident covers it
    )
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="受付庁舎",
        db_index=False,  # application_office_state covers it
    )
    counter = models.ForeignKey(
        "accounts.Counter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="受付窓口",
        db_index=False,
    )

    # Who applied and how they were identified.
    applicant_type = models.CharField("申請者", max_length=16, choices=APPLICANT_CHOICES)
    applicant_name = models.CharField("申請者氏名(代理人)", max_length=120, blank=True)
    documents = ArrayField(
        models.CharField(max_length=32, choices=DOCUMENT_CHOICES),
        verbose_name="確認書類(受付時)",
        default=list,
        blank=True,
    )
    received_on = models.DateField("申請受付日")
    received_at = models.DateTimeField("受付日時")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="受付者",
        db_index=False,
    )

    # Renewal and reissue (R-REI).
    old_card = models.ForeignKey(
        "cards.Card",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="旧カード",
        db_index=False,
    )
    old_card_returned = models.BooleanField(
        "旧カードを返納する", default=True, help_text="偽のときは紛失等 (R-REI-2)"
    )
    reissue_reason = models.CharField(
        "再交付の理由", max_length=32, choices=REASON_CHOICES, blank=True
    )
    lost_at_home = models.BooleanField("自宅内での紛失", default=False)
    police_report_no = models.CharField("遺失届・盗難届の受理番号", max_length=40, blank=True)
    disaster_certificate_no = models.CharField("罹災証明書の番号", max_length=60, blank=True)
    damaged_card_surrendered = models.BooleanField("破損したカードの返納", default=False)
    with_certificates = models.BooleanField("電子証明書の発行を希望", default=True)
    former_surname_listed = models.BooleanField("旧氏併記", default=False)

    # The fee as quoted when the application was received (R-REI-3).
    # The row is stored, not its rule text: FeeRow(fee_row).rule and .citation say why.
    # Blank (and no schedule) only for the kinds that have no fee row (NO_FEE_KINDS).
    fee_row = models.CharField("手数料の区分", max_length=40, choices=FEE_ROW_CHOICES, blank=True)
    fee_amount_yen = models.PositiveIntegerField("手数料(円)")
    fee_schedule = models.ForeignKey(
        "fees.FeeSchedule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="手数料表",
        db_index=False,
    )
    waiver = models.ForeignKey(
        "fees.FeeWaiver",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="手数料の免除",
        db_index=False,
    )
    payment = models.ForeignKey(
        "fees.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="領収",
        db_index=False,
    )

    # The pipeline (R-ISS-1).
    new_card = models.OneToOneField(
        "cards.Card",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
        verbose_name="新しいカード",
    )
    ordered_at = models.DateTimeField("発注日時", null=True, blank=True)
    arrived_at = models.DateTimeField("到着取込日時", null=True, blank=True)

    # The handover checklist (R-ISS-2, R-ISS-3, R-REI-2). PINs are never stored (R-PIN-3).
    handed_over_at = models.DateTimeField("交付日時", null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="交付者",
        db_index=False,
    )
    handover_applicant_type = models.CharField(
        "受取者", max_length=16, choices=APPLICANT_CHOICES, blank=True
    )
    handover_documents = ArrayField(
        models.CharField(max_length=32, choices=DOCUMENT_CHOICES),
        verbose_name="確認書類(交付時)",
        default=list,
        blank=True,
    )
    pins_set = models.BooleanField("暗証番号の設定済", default=False)
    legal_rep_present = models.BooleanField("法定代理人の同行", default=False)
    notification_card = models.CharField(
        "通知カード", max_length=16, choices=NOTIFICATION_CARD_CHOICES, blank=True
    )
    old_card_returned_at_handover = models.BooleanField("交付時に旧カードを返納", default=False)

    cancelled_at = models.DateTimeField("取下げ日時", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="取下げ処理者",
        db_index=False,
    )
    cancel_reason = models.CharField("取下げの理由", max_length=200, blank=True)

    # Issue 10: what a card-change procedure wrote. ``old_card`` is the card it
    # changed (the constraint that a non-first-issue names a card holds for them too).
    endorsement = models.OneToOneField(
        "cards.Endorsement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
        verbose_name="追記欄の記載",
    )
    continued_use = models.ForeignKey(
        "cards.ContinuedUse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="継続利用",
        db_index=False,
    )
    expiry_change = models.OneToOneField(
        "cards.ExpiryChange",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
        verbose_name="有効期限の変更",
    )
    # Issue 10: express issuance (R-EXP-1…3). The card is posted by J-LIS.
    express = models.BooleanField("特急発行", default=False)
    express_reason = models.CharField(
        "特急発行の事由", max_length=32, choices=EXPRESS_REASON_CHOICES, blank=True
    )
    express_event_on = models.DateField("特急発行の起算日", null=True, blank=True)
    posted_on = models.DateField("J-LISの発送日", null=True, blank=True)
    delivered_on = models.DateField("配達日", null=True, blank=True)
    returned_undelivered_on = models.DateField("返戻日", null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "申請"
        verbose_name_plural = "申請"
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["resident", "-received_at"], name="application_resident"),
            models.Index(fields=["office", "state"], name="application_office_state"),
            # The reports (apps.reports.selectors.activity_report): a period's receipts and
            # handovers as index-only scans, the columns they group by included.
            models.Index(
                fields=["received_at"],
                include=["office", "counter", "received_by", "kind"],
                name="application_received",
            ),
            models.Index(
                fields=["handed_over_at"],
                include=["received_on", "kind", "office"],
                condition=models.Q(state="handed_over"),
                name="application_handed_over",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[kind.value for kind in ApplicationKind]),
                name="application_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=[state.value for state in ApplicationState]),
                name="application_state_valid",
            ),
            # One card in the making per resident (R-ISS-1): a second order would make two.
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(
                    state__in=sorted(state.value for state in OPEN_STATES),
                    kind__in=sorted(kind.value for kind in CARD_KINDS),
                ),
                name="application_one_open_card_per_resident",
            ),
            # A kind with a fee row is quoted from a schedule; one without has no fee at all.
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=NO_FEE_KINDS, fee_row="", fee_schedule__isnull=True, fee_amount_yen=0
                )
                | (
                    ~models.Q(kind__in=NO_FEE_KINDS)
                    & ~models.Q(fee_row="")
                    & models.Q(fee_schedule__isnull=False)
                ),
                name="application_fee_row_iff_fee_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(applicant_type=ApplicantType.HOLDER)
                | ~models.Q(applicant_name=""),
                name="application_proxy_named",
            ),
            # A reissue has a reason; nothing else has one.
            models.CheckConstraint(
                condition=models.Q(kind=ApplicationKind.REISSUE, reissue_reason__in=list(_R))
                | (~models.Q(kind=ApplicationKind.REISSUE) & models.Q(reissue_reason="")),
                name="application_reason_iff_reissue",
            ),
            # R-REI-1 backstops (the service gives the clerk the message first).
            models.CheckConstraint(
                condition=~models.Q(reissue_reason=_R.STOLEN, lost_at_home=True),
                name="application_theft_not_at_home",
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    reissue_reason__in=[_R.LOST, _R.STOLEN], lost_at_home=False, police_report_no=""
                ),
                name="application_loss_has_police_report",
            ),
            models.CheckConstraint(
                condition=~models.Q(reissue_reason=_R.DISASTER, disaster_certificate_no=""),
                name="application_disaster_has_certificate",
            ),
            models.CheckConstraint(
                condition=~models.Q(reissue_reason=_R.DAMAGED, damaged_card_surrendered=False),
                name="application_damaged_card_surrendered",
            ),
            # R-REI-3: a waiver of the clerk's judgement is recorded.
            models.CheckConstraint(
                condition=~models.Q(reissue_reason=_R.NOT_HOLDER_FAULT, waiver__isnull=True),
                name="application_not_holder_fault_has_waiver",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ApplicationKind.FIRST_ISSUE, old_card__isnull=False),
                name="application_first_issue_has_no_old_card",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=ApplicationKind.FIRST_ISSUE)
                | models.Q(old_card__isnull=False),
                name="application_renewal_reissue_have_old_card",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["ordered", "arrived", "handed_over"])
                | models.Q(new_card__isnull=False, ordered_at__isnull=False),
                name="application_ordered_has_card",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="handed_over")
                | models.Q(handed_over_at__isnull=False, pins_set=True),
                name="application_handover_recorded",
            ),
            # Issue 10: an express application names its case (R-EXP-1); only card
            # kinds can be express, and only express cards are posted (R-EXP-3).
            models.CheckConstraint(
                condition=models.Q(express=False, express_reason="")
                | models.Q(
                    express=True,
                    kind__in=sorted(kind.value for kind in CARD_KINDS),
                    express_event_on__isnull=False,
                )
                & ~models.Q(express_reason=""),
                name="application_express_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["posted", "delivered", "undelivered"])
                | models.Q(express=True, posted_on__isnull=False),
                name="application_posted_is_express",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind_enum.label}（{self.state_enum.label}）"

    @property
    def kind_enum(self) -> ApplicationKind:
        return ApplicationKind(self.kind)

    @property
    def state_enum(self) -> ApplicationState:
        return ApplicationState(self.state)

    @property
    def reason_enum(self) -> ReissueReason | None:
        return ReissueReason(self.reissue_reason) if self.reissue_reason else None

    @property
    def waiver_pending(self) -> bool:
        """A fee waiver of the clerk's judgement still waits for a supervisor (R-REI-3).

        Only while the application is open: a withdrawn one waits for nobody's approval.
        """
        return self.is_open and self.waiver is not None and not self.waiver.approved

    @property
    def fee_row_enum(self) -> FeeRow | None:
        return FeeRow(self.fee_row) if self.fee_row else None

    @property
    def fee_rule(self) -> str:
        """The R-REI table row that decided the fee (from the stored row)."""
        row = self.fee_row_enum
        return row.rule if row is not None else ""

    @property
    def is_open(self) -> bool:
        return self.state_enum in OPEN_STATES

    @property
    def document_labels(self) -> list[str]:
        return [IdentityDocument(doc).label for doc in self.documents]

    @property
    def handover_document_labels(self) -> list[str]:
        return [IdentityDocument(doc).label for doc in self.handover_documents]


class ArrivalImport(models.Model):
    """One J-LIS arrivals file of one office (see apps.applications.arrivals for the layout).

    Uploaded, then imported by a Celery task (``state`` and ``progress_percent`` are what the
    page shows while it runs). The file's SHA-256 is unique per office among imports that did
    not fail: the same bytes uploaded again by that office change nothing; another office's
    import of the same bytes is its own (and never shown to the first).
    """

    class State(models.TextChoices):
        QUEUED = "queued", "取込待ち"
        RUNNING = "running", "取込中"
        DONE = "done", "取込済"
        FAILED = "failed", "取込中止"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sha256 = models.CharField("SHA-256", max_length=64)
    filename = models.CharField("ファイル名", max_length=255)
    size_bytes = models.PositiveIntegerField("サイズ(バイト)", default=0)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="取込者"
    )
    imported_at = models.DateTimeField("受付日時")
    imported_on = models.DateField("取込日")
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.DONE)
    progress_percent = models.PositiveSmallIntegerField("進捗(%)", default=0)
    progress_phase = models.CharField("進捗の段階", max_length=40, blank=True)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    # (line, message) pairs when the import was refused; line 1 is the header, null the file.
    problems = models.JSONField("取込を中止した理由", default=list, blank=True)
    row_count = models.PositiveIntegerField("行数", default=0)
    applied_count = models.PositiveIntegerField("到着を記録した件数", default=0)
    already_count = models.PositiveIntegerField("記録済だった件数", default=0)

    class Meta:
        verbose_name = "カード到着データの取込"
        verbose_name_plural = "カード到着データの取込"
        ordering = ["-imported_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="arrivalimport_sha256_hex"
            ),
            models.UniqueConstraint(
                fields=["office", "sha256"],
                condition=~models.Q(state="failed"),
                name="arrivalimport_once_per_office",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "done", "failed"]),
                name="arrivalimport_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="arrivalimport_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.imported_at:%Y-%m-%d %H:%M})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class ArrivalUpload(models.Model):
    """The bytes of an uploaded arrivals file, until its import has run (then deleted).

    Kept in the database, not on a disk, so a Celery worker on another machine reads them.
    """

    arrival_import = models.OneToOneField(
        ArrivalImport, on_delete=models.CASCADE, primary_key=True, related_name="upload"
    )
    content = models.BinaryField("内容")

    class Meta:
        verbose_name = "カード到着データ（取込前）"
        verbose_name_plural = "カード到着データ（取込前）"

    def __str__(self) -> str:
        return f"{self.arrival_import_id} の内容"


# The details of procedures on a card in use, in a file of their own.
from apps.applications.card_service_models import CardProcedure  # noqa: E402

__all__ = ["Application", "ArrivalImport", "ArrivalUpload", "CardProcedure"]
