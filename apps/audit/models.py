from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW_RESIDENT = "view_resident", "住民情報の閲覧"
    SEARCH = "search", "住民検索"
    SEARCH_MY_NUMBER = "search_my_number", "個人番号による検索"
    REVEAL_MY_NUMBER = "reveal_my_number", "個人番号の表示"
    EXPORT = "export", "データの出力"
    CARD_READ = "card_read", "カード読取の表示"


class Purpose(models.TextChoices):
    """Why a My Number was looked at (R-MYN-2). The list is the law's uses at a counter."""

    IDENTITY_CHECK = "identity_check", "本人確認(番号確認)"
    CARD_PROCEDURE = "card_procedure", "マイナンバーカードの手続"
    SOCIAL_SECURITY = "social_security", "社会保障の手続"
    TAX = "tax", "税の手続"
    DISASTER = "disaster", "災害対策の手続"
    AUDIT = "audit", "監査"


@pgtrigger.register(
    # The law asks who looked at whose My Number; a log that can be edited answers nothing.
    pgtrigger.Protect(name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
)
class AccessLog(models.Model):
    """One look at a resident's data. Append-only (a database trigger refuses UPDATE/DELETE).

    Holds no personal data itself: a search records which fields were used and how many
    residents matched, never the terms typed.
    """

    id = models.BigAutoField(primary_key=True)
    # Indexed with the id (Meta.indexes): the screen pages by (at, id), newest first.
    at = models.DateTimeField("日時", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="職員"
    )
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name="庁舎",
        db_index=False,  # accesslog_office_at starts with office_id
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
    detail = models.JSONField("詳細", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IPアドレス", null=True, blank=True)

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
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"
