from __future__ import annotations

import uuid

import pghistory
from django.db import models

from apps.cards.rules import CardState
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
        ]

    def __str__(self) -> str:
        return f"{self.resident} のカード ({self.get_state_display()})"

    @property
    def state_enum(self) -> CardState:
        return CardState(self.state)


# The call centre's suspensions (R-SUS-1), in a file of their own.
from apps.cards.suspension_models import (  # noqa: E402
    SuspensionFeedClient,
    SuspensionImport,
    SuspensionReport,
)

__all__ = ["Card", "SuspensionFeedClient", "SuspensionImport", "SuspensionReport"]
