"""Notices (expiry, stay reminder, pickup), the batches they are posted in, and job runs.

What must stay true:
- One notice per holder per event (R-NOT-2): the database refuses a second row for the same
  card, kind and expiry date, so re-runs and concurrent workers cannot post twice.
- A notice holds no personal data of its own beyond links: the letter reads the name and
  address from the resident when it is rendered, and never the My Number (R-MYN-2).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from apps.core.choices import choices_of
from apps.notices.rules import NoticeKind, format_reference_code, reference_code_for

NOTICE_KIND_CHOICES = choices_of(NoticeKind)


class NoticeBatch(models.Model):
    """Letters of one kind for one office, created by one run, posted together.

    ``state`` is the postal workflow a supervisor records (generated → printed → posted);
    ``render_state`` is the PDF/CSV rendering, which a worker does after the run commits.
    """

    class State(models.TextChoices):
        GENERATED = "generated", "作成済"
        PRINTED = "printed", "印刷済"
        POSTED = "posted", "発送済"

    class RenderState(models.TextChoices):
        PENDING = "pending", "作成待ち"
        RENDERING = "rendering", "作成中"
        DONE = "done", "作成完了"
        FAILED = "failed", "作成失敗"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # noticebatch_office_run below starts with office_id and serves the foreign key too.
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="担当庁舎",
        db_index=False,
    )
    kind = models.CharField("種類", max_length=16, choices=NOTICE_KIND_CHOICES)
    run_on = models.DateField("作成基準日")
    sequence = models.PositiveIntegerField("連番", default=0)
    notice_count = models.PositiveIntegerField("通数", default=0)
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.GENERATED)
    render_state = models.CharField(
        "PDF作成", max_length=16, choices=RenderState.choices, default=RenderState.PENDING
    )
    rendered_count = models.PositiveIntegerField("作成済の通数", default=0)
    render_started_at = models.DateTimeField(null=True, blank=True)
    # Who holds the rendering: the Celery task id of the message that claimed it. A worker
    # killed mid-batch leaves RENDERING behind; the same message, delivered again, carries
    # the same id and takes its own claim back (services.batch_render).
    render_claim = models.CharField(max_length=64, blank=True, db_default="", editable=False)
    render_error = models.CharField(max_length=300, blank=True, default="")
    pdf = models.CharField(max_length=200, blank=True, default="", editable=False)
    csv = models.CharField(max_length=200, blank=True, default="", editable=False)
    created_at = models.DateTimeField("作成日時", db_default=Now())
    printed_at = models.DateTimeField("印刷日時", null=True, blank=True)
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="印刷を記録した職員",
    )
    posted_at = models.DateTimeField("発送日時", null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="発送を記録した職員",
    )

    class Meta:
        verbose_name = "通知書の束"
        verbose_name_plural = "通知書の束"
        ordering = ["-run_on", "office__code", "kind", "sequence"]
        indexes = [models.Index(fields=["office", "-run_on"], name="noticebatch_office_run")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[kind.value for kind in NoticeKind]),
                name="noticebatch_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(rendered_count__lte=models.F("notice_count")),
                name="noticebatch_rendered_within_count",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_on} {self.get_kind_display()} #{self.sequence + 1}"

    @property
    def kind_enum(self) -> NoticeKind:
        return NoticeKind(self.kind)

    @property
    def progress_percent(self) -> int:
        if self.notice_count == 0:
            return 100
        return round(100 * self.rendered_count / self.notice_count)

    @property
    def is_rendering(self) -> bool:
        return self.render_state in (self.RenderState.PENDING, self.RenderState.RENDERING)


class Notice(models.Model):
    """One letter about one event of one card (R-NOT-1…3, R-ISS-1).

    ``expires_on`` is the event: the card's expiry (card notice, stay reminder), the expiry
    shared by the certificates it is about (certificate notice), or the new card's expiry
    (pickup, where the card itself is the event). The primary key is a plain bigint so that
    the daily bulk insert appends to its indexes, and the reference code printed on the
    letter is derived from it (apps.notices.rules.reference_code_for).
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField("種類", max_length=16, choices=NOTICE_KIND_CHOICES)
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name="住民",
    )
    # The unique index below starts with card_id and serves lookups by card.
    card = models.ForeignKey(
        "cards.Card",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name="カード",
        db_index=False,
    )
    expires_on = models.DateField("有効期限")
    created_on = models.DateField("作成基準日")
    created_at = models.DateTimeField("作成日時", db_default=Now())
    batch = models.ForeignKey(
        NoticeBatch,
        on_delete=models.PROTECT,
        related_name="notices",
        null=True,
        blank=True,
        verbose_name="束",
    )
    # R-STK-3: for a reminder of an uncollected card, its age in months after arrival; its
    # ``expires_on`` is then the day that age was reached (the event of the letter).
    reminder_months = models.PositiveSmallIntegerField("未受領の月数", null=True, blank=True)
    returned_on = models.DateField("宛所不明で返戻された日", null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="返戻を記録した職員",
        db_index=False,
    )

    class Meta:
        verbose_name = "通知書"
        verbose_name_plural = "通知書"
        indexes = [
            # The returned letters of a batch (its count on the batch list, its detail page):
            # a per-cent or so of the letters, so a small index that the count reads alone.
            models.Index(
                fields=["batch"],
                name="notice_returned_by_batch",
                condition=models.Q(returned_on__isnull=False),
            ),
        ]
        constraints = [
            # R-NOT-2: one notice per holder per expiry event, however often the job runs.
            # The job's INSERT … ON CONFLICT DO NOTHING leans on this index.
            models.UniqueConstraint(
                fields=["card", "kind", "expires_on"], name="notice_one_per_event"
            ),
            # R-ISS-1: one pickup notice per arrived card, whatever happens to its dates.
            models.UniqueConstraint(
                fields=["card"],
                condition=models.Q(kind="pickup"),
                name="notice_one_pickup_per_card",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[kind.value for kind in NoticeKind]),
                name="notice_kind_valid",
            ),
            # R-STK-3: one reminder per uncollected card and age, however often the job runs.
            models.UniqueConstraint(
                fields=["card", "reminder_months"],
                condition=models.Q(kind="uncollected"),
                name="notice_one_reminder_per_card_age",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="uncollected", reminder_months__gte=1)
                | (~models.Q(kind="uncollected") & models.Q(reminder_months__isnull=True)),
                name="notice_reminder_months_iff_uncollected",
            ),
            models.CheckConstraint(
                condition=models.Q(returned_on__isnull=True) | models.Q(returned_by__isnull=False),
                name="notice_returned_has_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference_code_display}"

    @property
    def kind_enum(self) -> NoticeKind:
        return NoticeKind(self.kind)

    @property
    def reference_code(self) -> str:
        return reference_code_for(self.pk)

    @property
    def reference_code_display(self) -> str:
        return format_reference_code(self.reference_code)


class NoticeRun(models.Model):
    """One run of the notice job: the trail a supervisor checks (what was created, when)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "定時実行"
        COMMAND = "command", "コマンド"
        ARRIVALS = "arrivals", "カード到着の取込"

    id = models.BigAutoField(primary_key=True)
    on = models.DateField("基準日")
    trigger = models.CharField("契機", max_length=16, choices=Trigger.choices)
    started_at = models.DateTimeField("開始", db_default=Now())
    finished_at = models.DateTimeField("終了", null=True, blank=True)
    created = models.JSONField("作成した通数", default=dict, blank=True)
    batch_count = models.PositiveIntegerField("作成した束", default=0)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        verbose_name = "通知書作成の実行記録"
        verbose_name_plural = "通知書作成の実行記録"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.on} {self.get_trigger_display()}"

    @property
    def total(self) -> int:
        return sum(int(count) for count in self.created.values())

    @property
    def created_by_kind(self) -> list[tuple[str, int]]:
        return [(NoticeKind(kind).label, int(count)) for kind, count in self.created.items()]
