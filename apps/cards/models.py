from __future__ import annotations

import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models

from apps.cards.rules import CardState, ContinuedUseVoid, EndorsementKind, name_as_card_shows
from apps.core.choices import choices_of

CARD_STATE_CHOICES = choices_of(CardState)
# The card a resident holds now: at most one of these per resident (a database constraint).
CURRENT_STATES = (CardState.ACTIVE, CardState.SUSPENDED)


# The office is set once, at order, and never changes: the history has nothing to add.
@pghistory.track(exclude=["office"])
class Card(models.Model):
    """One physical My Number card, from order to its end.

    State changes go through apps.cards.services, which checks the transition table in
    apps.cards.rules; the database backs the one invariant that must never break.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="cards",
        verbose_name="住民",
        db_index=False,  # card_resident_applied starts with resident_id and serves it
    )
    # Where the card is delivered to and waits for its holder: the office of the holder's
    # register when it was ordered (apps.cards.services.card_order). Kept on the card so that
    # an office's stock is one range of card_waiting below, not a walk of every waiting
    # card of the city through its resident.
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="交付庁舎",
        db_index=False,  # card_waiting serves the cards that need it; offices are not deleted
    )
    state = models.CharField("状態", max_length=16, choices=CARD_STATE_CHOICES)
    applied_on = models.DateField("申請受付日")
    issued_on = models.DateField(
        "発行日", null=True, blank=True, help_text="J-LISが作成した日 (R-VAL-1)"
    )
    expires_on = models.DateField("有効期限", null=True, blank=True)
    arrived_on = models.DateField("到着日", null=True, blank=True)
    handed_over_on = models.DateField("交付日", null=True, blank=True)
    ended_on = models.DateField("失効等の日", null=True, blank=True)
    end_reason = models.CharField("失効等の理由", max_length=200, blank=True)
    former_surname_listed = models.BooleanField("旧氏併記", default=False)
    expiry_extended = models.BooleanField(
        "特例期間の延長済", default=False, help_text="R-VAL-7 ② は一度だけ"
    )
    # Issue 10: R-EXP-4, a child under one applying from 2024-12-02.
    photo_less = models.BooleanField("顔写真なし", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "マイナンバーカード"
        verbose_name_plural = "マイナンバーカード"
        indexes = [
            models.Index(fields=["resident", "-applied_on"], name="card_resident_applied"),
            # An office's stock of cards waiting to be collected (R-ISS-1), oldest first:
            # the uncollected list pages along it (apps.applications.selectors).
            models.Index(
                fields=["office", "arrived_on", "id"],
                name="card_waiting",
                condition=models.Q(state="arrived"),
            ),
            # The notice job's range scan (R-NOT-1) reads current cards by expiry.
            models.Index(
                fields=["expires_on"],
                name="card_current_expiry",
                condition=models.Q(state__in=["active", "suspended"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(state__in=["active", "suspended"]),
                name="card_one_current_per_resident",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=[state.value for state in CardState]),
                name="card_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(issued_on__isnull=False, expires_on__gt=models.F("issued_on")),
                name="card_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["arrived", "active", "suspended", "expired"])
                | models.Q(issued_on__isnull=False, expires_on__isnull=False),
                name="card_made_cards_have_dates",
            ),
            # R-STK-3: a destroyed card was never handed over.
            models.CheckConstraint(
                condition=~models.Q(state="destroyed") | models.Q(handed_over_on__isnull=True),
                name="card_destroyed_never_handed_over",
            ),
        ]
        triggers = [
            # R-STK-3: a destroyed card can never become active. The transition table says so
            # for the services; this says so for every UPDATE, a bulk one or a hand-typed one.
            pgtrigger.Protect(
                name="card_destroyed_is_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__state="destroyed")
                & ~pgtrigger.Q(new__state="destroyed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} のカード ({self.get_state_display()})"

    @property
    def state_enum(self) -> CardState:
        return CardState(self.state)

    @property
    def name_shown(self) -> str:
        """The holder's name as this card prints it, "番号 [旧氏] 花子" when the former
        surname is listed (R-CHG-3). Reads the resident: select it with the card."""
        resident = self.resident
        return name_as_card_shows(
            family_name=resident.family_name,
            given_name=resident.given_name,
            former_surname=resident.former_surname if self.former_surname_listed else "",
        )


# --- issue 10: what is written on a card, continued use, expiry changes ---------------


@pghistory.track()
class Endorsement(models.Model):
    """One entry of the card's endorsement field (追記欄), as the clerk wrote it (R-CHG-1…4).

    Entries are numbered per card from 1; the number is unique per card, so two clerks
    writing on the same card at once cannot both take the last free line (the service locks
    the card first; the constraint is the backstop). The capacity is a setting (R-CHG-2).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    card = models.ForeignKey(
        Card,
        on_delete=models.PROTECT,
        related_name="endorsements",
        verbose_name="カード",
        db_index=False,  # endorsement_card_seq starts with card_id and serves it
    )
    seq = models.PositiveSmallIntegerField("記載番号")
    kind = models.CharField(
        "記載事項", max_length=16, choices=[(k.value, k.label) for k in EndorsementKind]
    )
    written_on = models.DateField("記載日")
    text = models.CharField("記載内容", max_length=300)
    chip_rewritten = models.BooleanField("ICチップの記録を更新", default=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="記載者",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "追記欄の記載"
        verbose_name_plural = "追記欄の記載"
        ordering = ["card", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["card", "seq"], name="endorsement_card_seq"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="endorsement_seq_positive"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in EndorsementKind]),
                name="endorsement_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.text}"

    @property
    def kind_enum(self) -> EndorsementKind:
        return EndorsementKind(self.kind)


@pghistory.track()
class ContinuedUse(models.Model):
    """A card brought from another city: the move-in and its registration (R-CHG-4).

    Open (neither registered nor voided) at most once per card: a database constraint.
    ``register_by`` is the last day to register (the notice + 90); the daily job voids the
    open ones past it and the clerks' list reads the ones due soon, both along its index.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    card = models.ForeignKey(
        Card,
        on_delete=models.PROTECT,
        related_name="continued_uses",
        verbose_name="カード",
        db_index=False,  # continueduse_one_open_per_card and the history serve it
    )
    office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="転入先の庁舎",
        db_index=False,  # continueduse_due starts with office_id
    )
    planned_move_out_on = models.DateField("転出予定日")
    moved_in_on = models.DateField("転入日")
    move_in_notice_on = models.DateField("転入届の日")
    register_by = models.DateField("継続利用の手続の期限")
    registered_on = models.DateField("継続利用の手続日", null=True, blank=True)
    voided_on = models.DateField("失効日", null=True, blank=True)
    void_reason = models.CharField(
        "失効の理由",
        max_length=32,
        blank=True,
        choices=[(v.value, v.label) for v in ContinuedUseVoid],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "継続利用"
        verbose_name_plural = "継続利用"
        indexes = [
            models.Index(
                fields=["office", "register_by", "id"],
                name="continueduse_due",
                condition=models.Q(registered_on__isnull=True, voided_on__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["card"],
                condition=models.Q(registered_on__isnull=True, voided_on__isnull=True),
                name="continueduse_one_open_per_card",
            ),
            models.CheckConstraint(
                condition=models.Q(move_in_notice_on__gte=models.F("moved_in_on")),
                name="continueduse_notice_after_move_in",
            ),
            models.CheckConstraint(
                condition=models.Q(registered_on__isnull=True) | models.Q(voided_on__isnull=True),
                name="continueduse_registered_or_voided",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_on__isnull=True, void_reason="")
                | models.Q(voided_on__isnull=False) & ~models.Q(void_reason=""),
                name="continueduse_void_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"継続利用（{self.move_in_notice_on.isoformat()} 転入届）"

    @property
    def void_reason_enum(self) -> ContinuedUseVoid | None:
        return ContinuedUseVoid(self.void_reason) if self.void_reason else None


class ExpiryChangeKind(models.TextChoices):
    """R-VAL-7 ① (a renewal or change of status) or ② (the special period, once)."""

    CHANGE = "change", "有効期限の変更（在留期間の更新・在留資格の変更）"
    SPECIAL_EXTENSION = "special_extension", "特例期間による有効期限の延長"


@pghistory.track()
class ExpiryChange(models.Model):
    """A foreign resident's card expiry moved at the counter, with the proof seen (R-VAL-7).

    The special-period extension is once per card: a partial unique index backs the
    ``Card.expiry_extended`` flag. The e-certificates are not touched (R-VAL-7).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    card = models.ForeignKey(
        Card,
        on_delete=models.PROTECT,
        related_name="expiry_changes",
        verbose_name="カード",
    )
    kind = models.CharField("種類", max_length=20, choices=ExpiryChangeKind.choices)
    requested_on = models.DateField("申請日")
    old_expires_on = models.DateField("変更前の有効期限")
    new_expires_on = models.DateField("変更後の有効期限")
    new_period_ends_on = models.DateField("新しい在留期間等の満了日")
    proof = models.CharField("確認した書類", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "有効期限の変更"
        verbose_name_plural = "有効期限の変更"
        constraints = [
            models.UniqueConstraint(
                fields=["card"],
                condition=models.Q(kind="special_extension"),
                name="expirychange_special_once_per_card",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["change", "special_extension"]),
                name="expirychange_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(proof=""), name="expirychange_proof_recorded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_expires_on} → {self.new_expires_on}"


# The call centre's suspensions (R-SUS-1), in a file of their own.
from apps.cards.suspension_models import (  # noqa: E402
    SuspensionFeedClient,
    SuspensionImport,
    SuspensionReport,
)

__all__ = ["Card", "SuspensionFeedClient", "SuspensionImport", "SuspensionReport"]
