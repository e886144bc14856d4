"""The national call centre's suspensions (R-SUS-1): each record it sends, the CSV files of
the same records, and the machine client that may post them.

Imported by apps.cards.models (Django finds models there); kept in a file of its own so the
card model stays what it is.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.cards.rules import FEED_RECORD_ID_MAX, SuspensionReason
from apps.core.choices import choices_of

SUSPENSION_REASON_CHOICES = choices_of(SuspensionReason)


class SuspensionReport(models.Model):
    """One record of the call centre's feed, stored once per its own record id (R-SUS-1).

    The unique constraint on ``record_id`` is what makes the feed idempotent under
    concurrency: the API and the CSV import, and two workers importing one file at once,
    can each try to insert a record; one row results, and the card is suspended once.
    ``fingerprint`` is what the record said: the same id saying something else is refused.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record_id = models.CharField("受付番号（コールセンター）", max_length=FEED_RECORD_ID_MAX)
    fingerprint = models.CharField("記録内容", max_length=200)
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="住民",
    )
    card = models.ForeignKey(
        "cards.Card",
        on_delete=models.PROTECT,
        related_name="suspension_reports",
        verbose_name="カード",
    )
    reported_at = models.DateTimeField("一時停止の受付日時")
    reason = models.CharField("理由", max_length=16, choices=SUSPENSION_REASON_CHOICES)
    source = models.CharField(
        "経路", max_length=8, choices=[("api", "API"), ("csv", "CSVファイル")]
    )
    received_at = models.DateTimeField("市の受信日時", auto_now_add=True)
    # Whether this record moved the card (ACTIVE → SUSPENDED); False when it was already
    # suspended by an earlier record, or no longer in use.
    suspended_card = models.BooleanField("この記録で一時停止した", default=False)

    class Meta:
        verbose_name = "一時停止の記録"
        verbose_name_plural = "一時停止の記録"
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(fields=["record_id"], name="suspensionreport_record_once"),
        ]

    def __str__(self) -> str:
        return f"一時停止 {self.record_id}"


class SuspensionFeedClient(models.Model):
    """The call centre's machine client: its own credential, good for the suspension feed
    endpoint alone (apps.cards.api). Only the token's SHA-256 is kept; the token is shown
    once, when ``manage.py suspension_feed_client`` creates it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("名称", max_length=100, unique=True)
    token_sha256 = models.CharField("トークンのSHA-256", max_length=64, unique=True)
    active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField("最終利用", null=True, blank=True)

    class Meta:
        verbose_name = "一時停止連携クライアント"
        verbose_name_plural = "一時停止連携クライアント"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(token_sha256__regex=r"^[0-9a-f]{64}$"),  # noqa: S106
                name="suspensionfeedclient_sha256_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SuspensionImport(models.Model):
    """One CSV file of call-centre records, imported by a Celery task
    (``cards.import_suspensions``). The same file twice is harmless: each record is kept once
    by its record id."""

    class State(models.TextChoices):
        QUEUED = "queued", "取込待ち"
        DONE = "done", "取込済"
        FAILED = "failed", "取込中止"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField("ファイル名", max_length=255)
    content = models.BinaryField("内容")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="取込者"
    )
    uploaded_at = models.DateTimeField("受付日時", auto_now_add=True)
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.QUEUED)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    row_count = models.PositiveIntegerField("行数", default=0)
    created_count = models.PositiveIntegerField("新たに記録した件数", default=0)
    repeated_count = models.PositiveIntegerField("記録済だった件数", default=0)
    # [line, record id or "", message]: refused rows (conflicts, unknown residents), reported.
    problems = models.JSONField("取り込めなかった行", default=list, blank=True)

    class Meta:
        verbose_name = "一時停止データの取込"
        verbose_name_plural = "一時停止データの取込"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.uploaded_at:%Y-%m-%d %H:%M})"
