"""The custody ledger of cards waiting at the city (R-STK-1…3) and the handover interlock's
records (R-HND-1…5).

Every card that arrives gets one ``CardCustody`` row: its arrival lot, where it is now and,
once pre-handover setup has read it, the AUTH certificate serial bound to it. ``CustodyMove``
is the append-only trail of where it went; ``DailyCount`` the counts per place;
``HandoverReadCheck`` the verdict on each read at the counter; ``SecondCheck`` the second
member of staff; ``Destruction`` the end of a card never collected.
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.db import models


class PlaceKind(models.TextChoices):
    SAFE = "safe", "金庫"
    BOX = "box", "保管箱"
    TRAY = "tray", "トレイ"


class Place(models.Model):
    """A place an office keeps cards in (safe, box, tray): configured per office (R-STK-1)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    name = models.CharField("名称", max_length=60)
    kind = models.CharField("種類", max_length=8, choices=PlaceKind.choices)
    active = models.BooleanField("使用中", default=True)
    sort_order = models.PositiveSmallIntegerField("並び順", default=0)

    class Meta:
        verbose_name = "保管場所"
        verbose_name_plural = "保管場所"
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["office", "name"], name="place_name_unique_in_office"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[kind.value for kind in PlaceKind]),
                name="place_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class Lot(models.Model):
    """An arrival lot: the cards of one office that arrived on one day, received together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", verbose_name="庁舎"
    )
    number = models.CharField("ロット番号", max_length=40)
    arrived_on = models.DateField("到着日")
    received_at = models.DateTimeField("受入日時")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="受入者"
    )
    card_count = models.PositiveIntegerField("枚数")

    class Meta:
        verbose_name = "到着ロット"
        verbose_name_plural = "到着ロット"
        ordering = ["-arrived_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["office", "number"], name="lot_number_unique_in_office")
        ]

    def __str__(self) -> str:
        return self.number


class CustodyState(models.TextChoices):
    IN_PLACE = "in_place", "保管中"
    AT_COUNTER = "at_counter", "窓口に持出し中"
    HANDED_OVER = "handed_over", "交付済"
    DESTROYED = "destroyed", "廃棄済"
    RELEASED = "released", "保管終了（取下げ等）"


class CardCustody(models.Model):
    """One card in the ledger: its lot, where it is, and its pre-handover setup (R-HND-1)."""

    card = models.OneToOneField(
        "cards.Card",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="custody",
        verbose_name="カード",
    )
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="庁舎",
        db_index=False,  # custody_office_state starts with it
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="cards", verbose_name="ロット"
    )
    position = models.PositiveIntegerField("ロット内の順番")
    state = models.CharField(
        "保管の状態", max_length=16, choices=CustodyState.choices, default=CustodyState.IN_PLACE
    )
    place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cards",
        verbose_name="保管場所",
    )
    counter = models.ForeignKey(
        "accounts.Counter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="持出し先の窓口",
        db_index=False,
    )
    # R-HND-1: the AUTH certificate serial read at pre-handover setup (lower-case hex, no
    # leading zeros: apps.custody.rules.normalize_serial). Unique: one chip, one card record.
    auth_serial = models.CharField(
        "利用者証明用電子証明書のシリアル番号", max_length=66, blank=True
    )
    set_up_at = models.DateTimeField("交付前設定の日時", null=True, blank=True)
    set_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="交付前設定の担当者",
        db_index=False,
    )

    class Meta:
        verbose_name = "カードの保管"
        verbose_name_plural = "カードの保管"
        indexes = [models.Index(fields=["office", "state", "place"], name="custody_office_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["auth_serial"],
                condition=~models.Q(auth_serial=""),
                name="custody_one_card_per_serial",
            ),
            models.UniqueConstraint(fields=["lot", "position"], name="custody_position_in_lot"),
            models.CheckConstraint(
                condition=models.Q(state__in=[state.value for state in CustodyState]),
                name="custody_state_valid",
            ),
            # R-STK-1: a card in custody is always somewhere.
            models.CheckConstraint(
                condition=~models.Q(state="in_place")
                | models.Q(place__isnull=False, counter__isnull=True),
                name="custody_in_place_has_place",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="at_counter")
                | models.Q(place__isnull=True, counter__isnull=False),
                name="custody_at_counter_has_counter",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["in_place", "at_counter"])
                | models.Q(place__isnull=True, counter__isnull=True),
                name="custody_gone_is_nowhere",
            ),
            # R-HND-1: the binding is whole (serial, when, who) or absent; a card handed over
            # was always bound.
            models.CheckConstraint(
                condition=models.Q(auth_serial="", set_up_at__isnull=True, set_up_by__isnull=True)
                | (
                    models.Q(set_up_at__isnull=False, set_up_by__isnull=False)
                    & ~models.Q(auth_serial="")
                ),
                name="custody_setup_whole",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="handed_over") | ~models.Q(auth_serial=""),
                name="custody_handed_over_was_bound",
            ),
            models.CheckConstraint(
                condition=models.Q(auth_serial__regex=r"^([0-9a-f]+)?$"),
                name="custody_serial_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_id} ({self.get_state_display()})"

    @property
    def is_set_up(self) -> bool:
        return bool(self.auth_serial)


class MoveKind(models.TextChoices):
    RECEIVED = "received", "到着・受入"
    MOVED = "moved", "保管場所の移動"
    TO_COUNTER = "to_counter", "窓口へ持出し"
    BACK = "back", "窓口から戻し"
    HANDED_OVER = "handed_over", "交付"
    DESTROYED = "destroyed", "廃棄"
    RELEASED = "released", "保管終了（取下げ等）"


class CustodyMove(models.Model):
    """One move of one card, with who and when (R-STK-1). Append-only (a trigger says so)."""

    id = models.BigAutoField(primary_key=True)
    card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name="カード"
    )
    kind = models.CharField("移動の種類", max_length=16, choices=MoveKind.choices)
    from_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    to_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    counter = models.ForeignKey(
        "accounts.Counter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,  # a job (the SystemActor is named in note)
        blank=True,
        related_name="+",
        verbose_name="職員",
        db_index=False,
    )
    moved_at = models.DateTimeField("日時")
    note = models.CharField("備考", max_length=200, blank=True)

    class Meta:
        verbose_name = "カードの移動"
        verbose_name_plural = "カードの移動"
        ordering = ["card", "id"]
        indexes = [models.Index(fields=["card", "id"], name="custodymove_card")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[kind.value for kind in MoveKind]),
                name="custodymove_kind_valid",
            )
        ]
        triggers = [
            pgtrigger.Protect(
                name="custodymove_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.moved_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class DailyCount(models.Model):
    """Staff counted one place on one day (R-STK-2). A difference with the ledger stays open
    until a supervisor resolves it with a note."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="庁舎",
        db_index=False,  # dailycount_open / dailycount_office_on start with it
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="counts", verbose_name="保管場所"
    )
    counted_on = models.DateField("点検日")
    counted_at = models.DateTimeField("点検日時")
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="点検者",
        db_index=False,
    )
    counted = models.PositiveIntegerField("数えた枚数")
    expected = models.PositiveIntegerField("台帳上の枚数")
    # The cards the ledger had in the place when it was counted: what to look for.
    expected_cards = models.JSONField("台帳上のカード", default=list, blank=True)
    resolved_at = models.DateTimeField("解決日時", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="解決した監督者",
        db_index=False,
    )
    resolution_note = models.CharField("解決の記録", max_length=500, blank=True)

    class Meta:
        verbose_name = "保管数の点検"
        verbose_name_plural = "保管数の点検"
        ordering = ["-counted_on", "place__sort_order"]
        indexes = [
            models.Index(fields=["office", "counted_on"], name="dailycount_office_on"),
            # The supervisors' "open differences": few rows, read on every home page.
            models.Index(
                fields=["office", "counted_on"],
                name="dailycount_open",
                condition=models.Q(resolved_at__isnull=True)
                & ~models.Q(counted=models.F("expected")),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["place", "counted_on"], name="dailycount_once_a_day"),
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True, resolved_by__isnull=True)
                | (
                    models.Q(resolved_at__isnull=False, resolved_by__isnull=False)
                    & ~models.Q(resolution_note="")
                    & ~models.Q(counted=models.F("expected"))
                ),
                name="dailycount_resolution_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counted_on} {self.place_id}"

    @property
    def difference(self) -> int:
        return self.counted - self.expected

    @property
    def is_open(self) -> bool:
        return self.difference != 0 and self.resolved_at is None


class HandoverReadCheck(models.Model):
    """The interlock's verdict on one read at one counter for one application (R-HND-2).

    Written when the read reaches the handover screen (or the API asks), in a transaction of
    its own: a red verdict and its access-log row stay recorded although nothing is handed
    over. The handover itself requires the newest read at the counter to have a green one.
    """

    id = models.BigAutoField(primary_key=True)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    counter = models.ForeignKey(
        "accounts.Counter", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    read = models.ForeignKey(
        "counters.CardRead", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    checked_at = models.DateTimeField("照合日時")
    bound_serial = models.CharField(max_length=66)
    read_serial = models.CharField(max_length=66, blank=True)
    matches = models.BooleanField("一致")
    # The holder of the card actually read, when it is another known card (the red screen
    # shows both names).
    read_resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "交付時のカード照合"
        verbose_name_plural = "交付時のカード照合"
        indexes = [
            models.Index(fields=["application", "-id"], name="readcheck_application"),
            models.Index(
                fields=["office", "checked_at"],
                name="readcheck_blocked",
                condition=models.Q(matches=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["application", "read"], name="readcheck_once_per_read"),
            models.CheckConstraint(
                condition=models.Q(matches=False) | models.Q(read_serial=models.F("bound_serial")),
                name="readcheck_match_is_equal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M:%S} {'一致' if self.matches else '不一致'}"


class SecondCheckReason(models.TextChoices):
    EXPRESS = "express", "特急発行の申請"
    NO_PHOTO = "no_photo", "顔写真のないカード"
    FLAGGED = "flagged", "担当者が二重確認を指定"


class SecondCheck(models.Model):
    """R-HND-5: a second member of staff confirms the photo / identity check."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="申請",
    )
    reason = models.CharField("理由", max_length=16, choices=SecondCheckReason.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    requested_at = models.DateTimeField("依頼日時")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    confirmed_at = models.DateTimeField("確認日時", null=True, blank=True)

    class Meta:
        verbose_name = "二人目の確認"
        verbose_name_plural = "二人目の確認"
        indexes = [
            models.Index(
                fields=["office", "requested_at"],
                name="secondcheck_waiting",
                condition=models.Q(confirmed_at__isnull=True),
            )
        ]
        constraints = [
            # R-HND-5: the two must differ.
            models.CheckConstraint(
                condition=models.Q(confirmed_by__isnull=True)
                | ~models.Q(confirmed_by=models.F("requested_by")),
                name="secondcheck_two_people",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | models.Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="secondcheck_confirmation_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_reason_display()}"


class Destruction(models.Model):
    """R-STK-3: an uncollected card destroyed after the retention period, by two members of
    staff, the second a supervisor. Requested first; the supervisor's approval destroys."""

    card = models.OneToOneField(
        "cards.Card",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="+",
        verbose_name="カード",
    )
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    requested_at = models.DateTimeField("廃棄の記録日時")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    destroyed_on = models.DateField("廃棄日", null=True, blank=True)

    class Meta:
        verbose_name = "未受領カードの廃棄"
        verbose_name_plural = "未受領カードの廃棄"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | ~models.Q(approved_by=models.F("requested_by")),
                name="destruction_two_people",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    approved_by__isnull=True, approved_at__isnull=True, destroyed_on__isnull=True
                )
                | models.Q(
                    approved_by__isnull=False, approved_at__isnull=False, destroyed_on__isnull=False
                ),
                name="destruction_approval_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_id} の廃棄"


class DailyReconciliation(models.Model):
    """One office's day, as the reconciliation job found it (the screen computes it live)."""

    id = models.BigAutoField(primary_key=True)
    office = models.ForeignKey(
        "accounts.Office", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    on = models.DateField("対象日")
    made_at = models.DateTimeField("作成日時")
    figures = models.JSONField("集計", default=dict)
    problems = models.PositiveIntegerField("要確認の件数", default=0)

    class Meta:
        verbose_name = "日次の突合"
        verbose_name_plural = "日次の突合"
        constraints = [
            models.UniqueConstraint(fields=["office", "on"], name="reconciliation_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.office_id}"
