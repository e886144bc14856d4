"""The one thing the reports app stores: J-LIS's posted-notices lists and their comparison
with the holders due (R-NOT-4). Everything else in the app reads other apps' tables.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class NoticeReconciliation(models.Model):
    """One import of J-LIS's list of the expiry notices it posted in a month, for one office,
    and what the comparison with the holders due that month found (R-NOT-4).

    The same file for the same office and month is imported once (a unique constraint): a
    second upload shows the first comparison and writes nothing. The letters themselves are
    notices (apps.notices), one per holder and event by the notices' own unique index.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    month = models.DateField("対象月", help_text="その月の1日")
    sha256 = models.CharField("SHA-256", max_length=64)
    filename = models.CharField("ファイル名", max_length=255)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="取込者"
    )
    imported_at = models.DateTimeField("取込日時")
    listed_count = models.PositiveIntegerField("J-LISの発送件数(この庁舎)", default=0)
    other_office_count = models.PositiveIntegerField("他庁舎・該当なしの行", default=0)
    due_count = models.PositiveIntegerField("通知の対象者", default=0)
    missing_count = models.PositiveIntegerField("発送漏れ", default=0)
    extra_count = models.PositiveIntegerField("対象外への発送", default=0)
    letters_created = models.PositiveIntegerField("市から送る通知書", default=0)

    class Meta:
        verbose_name = "有効期限通知の突合"
        verbose_name_plural = "有効期限通知の突合"
        ordering = ["-month", "-imported_at"]
        indexes = [models.Index(fields=["office", "-month"], name="reconciliation_office_month")]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "month", "sha256"], name="reconciliation_once_per_file"
            ),
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="reconciliation_sha256_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} の突合"


class ReconciliationMissing(models.Model):
    """One holder due in the month whom J-LIS's list does not name: the city writes to them."""

    reconciliation = models.ForeignKey(
        NoticeReconciliation, on_delete=models.CASCADE, related_name="missing"
    )
    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("種類", max_length=16)  # a key of rules.JLIS_KINDS
    expires_on = models.DateField("有効期限")

    class Meta:
        verbose_name = "発送漏れ"
        verbose_name_plural = "発送漏れ"
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "card", "kind", "expires_on"],
                name="reconciliation_missing_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.expires_on}"
