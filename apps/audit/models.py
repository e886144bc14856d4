"""The access record (R-AUD-1, R-AUD-2): who looked at whose data, when, where and why.

The table is append-only and tamper-evident, enforced by the database, not by this code:
- a BEFORE INSERT trigger (migration 0003) takes a transaction-scoped advisory lock, sets `at`
  from the database clock, numbers the row (`seq`) and writes `hash` = SHA-256 over the row's
  content and the previous row's hash. The lock orders concurrent writers, and `seq` is unique,
  so the chain cannot fork; a backdated `at` from a client is overwritten.
- BEFORE UPDATE/DELETE (row) and BEFORE TRUNCATE (statement) triggers refuse. They are plain
  triggers of our own, not django-pgtrigger's, whose `SET LOCAL pgtrigger.ignore` escape would
  let any role with the table's grants switch them off.
- the application runs as `madoguchi_app`, which holds only SELECT and INSERT on this table
  (`manage.py db_roles`); only the owner could disable the triggers, and `manage.py
  audit_verify` then names the first row whose hash no longer matches.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class Action(models.TextChoices):
    VIEW_RESIDENT = "view_resident", "住民情報の閲覧"
    SEARCH = "search", "住民検索"
    SEARCH_MY_NUMBER = "search_my_number", "個人番号による検索"
    REVEAL_MY_NUMBER = "reveal_my_number", "個人番号の表示"
    EXPORT = "export", "データの出力"
    CARD_READ = "card_read", "カード読取の表示"
    VIEW_APPLICATION = "view_application", "申請の閲覧"
    VIEW_HANDOVER = "view_handover", "交付画面の閲覧"
    HANDOVER_BLOCKED = "handover_blocked", "交付の差止め（別のカードの読取）"
    VIEW_CUSTODY = "view_custody", "カード保管記録の閲覧"
    VIEW_RECEIPT = "view_receipt", "領収書の表示"
    VIEW_LIST = "view_list", "一覧の閲覧"
    DENIED = "denied", "拒否されたアクセス"
    SIGN_IN = "sign_in", "ログイン"
    SIGN_IN_FAILED = "sign_in_failed", "ログイン失敗"
    SIGN_OUT = "sign_out", "ログアウト"


class Outcome(models.TextChoices):
    """What came of the attempt (R-AUD-1): a denied look is recorded as much as a granted one."""

    OK = "ok", "成功"
    DENIED = "denied", "拒否"
    FAILED = "failed", "失敗"


class Purpose(models.TextChoices):
    """Why a My Number was looked at (R-MYN-2). The list is the law's uses at a counter."""

    IDENTITY_CHECK = "identity_check", "本人確認(番号確認)"
    CARD_PROCEDURE = "card_procedure", "マイナンバーカードの手続"
    SOCIAL_SECURITY = "social_security", "社会保障の手続"
    TAX = "tax", "税の手続"
    DISASTER = "disaster", "災害対策の手続"
    AUDIT = "audit", "監査"


GENESIS_HASH = "0" * 64  # the `prev_hash` of the first row


class AccessLog(models.Model):
    """One look at a resident's data, or one sign-in (R-AUD-1). Append-only (R-AUD-2).

    Holds no personal data itself: a search records which fields were used and how many
    residents matched, never the terms typed. `seq`, `prev_hash`, `hash` and `at` are written
    by the database trigger (their `db_default` makes Django read them back on insert).
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField("連番", unique=True, db_default=0, editable=False)
    # Indexed with the id (Meta.indexes): the screen pages by (at, id), newest first.
    at = models.DateTimeField("日時", db_default=Now(), editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,  # a failed sign-in under a name that is no account
        related_name="+",
        verbose_name="職員",
    )
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name="庁舎",
        db_index=False,  # accesslog_office_at starts with office_id
    )
    counter = models.ForeignKey(
        "accounts.Counter",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name="窓口",
        db_index=False,  # nothing filters by it; the row names where the look happened
    )
    device = models.ForeignKey(
        "counters.Device",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name="読取端末",
        db_index=False,
    )
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        related_name="access_logs",
        verbose_name="住民",
        db_index=False,  # accesslog_resident_at starts with resident_id
    )
    action = models.CharField("操作", max_length=32, choices=Action.choices)
    purpose = models.CharField("利用目的", max_length=32, choices=Purpose.choices, blank=True)
    outcome = models.CharField("結果", max_length=8, choices=Outcome.choices, default=Outcome.OK)
    detail = models.JSONField("詳細", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IPアドレス", null=True, blank=True)
    prev_hash = models.CharField("前の行のハッシュ", max_length=64, db_default="", editable=False)
    hash = models.CharField("ハッシュ", max_length=64, db_default="", editable=False)

    class Meta:
        verbose_name = "アクセス記録"
        verbose_name_plural = "アクセス記録"
        ordering = ["-at", "-id"]
        indexes = [
            # The auditor's screen, the whole city newest first, and its date filter: one range.
            models.Index(fields=["at", "id"], name="accesslog_at"),
            # A supervisor's screen: their office's rows, newest first.
            models.Index(fields=["office", "at", "id"], name="accesslog_office_at"),
            # Who looked at this resident (R-MYN-2).
            models.Index(fields=["resident", "-at"], name="accesslog_resident_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="reveal_my_number") | ~models.Q(purpose=""),
                name="accesslog_reveal_has_purpose",
            ),
            # Only a failed sign-in may name no member of staff.
            models.CheckConstraint(
                condition=models.Q(actor__isnull=False) | models.Q(action="sign_in_failed"),
                name="accesslog_actor_unless_failed_sign_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class Alert(models.Model):
    """Something a supervisor must look at now (R-AUD-3: reveals beyond the hourly rate).

    Shown on the access-log page to the supervisors of the office and to the auditor until a
    supervisor acknowledges it. One alert per member of staff and kind per hour is enough.
    """

    class Kind(models.TextChoices):
        REVEAL_RATE = "reveal_rate", "個人番号の表示回数が上限を超えました"

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField("日時", db_default=Now(), db_index=True, editable=False)
    kind = models.CharField("種類", max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="職員"
    )
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, null=True, related_name="+"
    )
    detail = models.JSONField("詳細", default=dict, blank=True)
    acknowledged_at = models.DateTimeField("確認日時", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="確認した監督者",
    )

    class Meta:
        verbose_name = "警告"
        verbose_name_plural = "警告"
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.get_kind_display()
