from __future__ import annotations

import uuid

import pghistory
from django.db import models

from apps.certificates.rules import PIN_MAX_TRIES, CertificateKind, PinKind
from apps.core.choices import choices_of

CERTIFICATE_KIND_CHOICES = choices_of(CertificateKind)
PIN_KIND_CHOICES = choices_of(PinKind)


class CertificateState(models.TextChoices):
    ACTIVE = "active", "有効"
    REVOKED = "revoked", "失効"
    EXPIRED = "expired", "有効期限切れ"


@pghistory.track()
class Certificate(models.Model):
    """One of the card's two electronic certificates (R-CRT-1)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="certificates", verbose_name="カード"
    )
    kind = models.CharField("種類", max_length=16, choices=CERTIFICATE_KIND_CHOICES)
    # Lowercase hex without separators: the form the reader agent sends (matching a read).
    # Unique through Meta.constraints, which, unlike unique=True, adds no pattern-ops copy of
    # the index (a read matches a serial by equality; nothing searches it by prefix).
    serial = models.CharField("シリアル番号", max_length=64)
    issued_on = models.DateField("発行日")
    expires_on = models.DateField("有効期限")
    state = models.CharField(
        "状態", max_length=16, choices=CertificateState.choices, default=CertificateState.ACTIVE
    )
    revoked_on = models.DateField("失効日", null=True, blank=True)
    revoke_reason = models.CharField("失効理由", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "電子証明書"
        verbose_name_plural = "電子証明書"
        ordering = ["kind", "-issued_on"]
        indexes = [
            models.Index(
                fields=["expires_on"],
                name="certificate_active_expiry",
                condition=models.Q(state="active"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["serial"], name="certificate_serial_unique"),
            models.UniqueConstraint(
                fields=["card", "kind"],
                condition=models.Q(state="active"),
                name="certificate_one_active_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__gt=models.F("issued_on")),
                name="certificate_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(serial__regex=r"^[0-9a-f]+$"), name="certificate_serial_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"


class PinState(models.Model):
    """Lock state of one of the card's four PINs. The PIN itself is never stored (R-PIN-3)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    card = models.ForeignKey(
        "cards.Card", on_delete=models.CASCADE, related_name="pin_states", verbose_name="カード"
    )
    kind = models.CharField("暗証番号", max_length=16, choices=PIN_KIND_CHOICES)
    tries_left = models.PositiveSmallIntegerField("残り回数")
    observed_at = models.DateTimeField("確認日時", null=True, blank=True)

    class Meta:
        verbose_name = "暗証番号の状態"
        verbose_name_plural = "暗証番号の状態"
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["card", "kind"], name="pinstate_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(tries_left__lte=5), name="pinstate_tries_at_most_five"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: 残り{self.tries_left}回"

    @property
    def max_tries(self) -> int:
        return PIN_MAX_TRIES[PinKind(self.kind)]

    @property
    def locked(self) -> bool:
        return self.tries_left == 0
