"""What a procedure on a card in use records besides its Application (CARD_SERVICE_KINDS):
the certificate issued, renewed or revoked, the PINs whose lock was released and the
inquiry letter that tied an ordinary proxy's two visits, the reason for a return, the card
read a lifting rested on.

Imported by apps.applications.models; a file of its own so the card application stays as
it is. R-PIN-3: no PIN is ever stored here, only which PINs were reset.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.applications.rules import ReturnReason
from apps.certificates.models import CERTIFICATE_KIND_CHOICES, PIN_KIND_CHOICES
from apps.certificates.rules import CertificateAction
from apps.core.choices import choices_of

CERTIFICATE_ACTION_CHOICES = choices_of(CertificateAction)
RETURN_REASON_CHOICES = choices_of(ReturnReason)


@pghistory.track()
class CardProcedure(models.Model):
    """The details of one procedure on a card in use (one per such application)."""

    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="card_procedure",
        verbose_name="申請",
    )
    card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name="カード"
    )

    # Certificates (R-CRT-2…5).
    certificate_action = models.CharField(
        "電子証明書の手続", max_length=16, choices=CERTIFICATE_ACTION_CHOICES, blank=True
    )
    certificate_kind = models.CharField(
        "電子証明書の種類", max_length=16, choices=CERTIFICATE_KIND_CHOICES, blank=True
    )
    certificate = models.ForeignKey(
        "certificates.Certificate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="電子証明書",
        db_index=False,
    )
    legal_rep_requests = models.BooleanField("法定代理人の申請", default=False)

    # Lock release and PIN reset (R-PIN-1). Which PINs, never a PIN (R-PIN-3).
    pins = ArrayField(
        models.CharField(max_length=16, choices=PIN_KIND_CHOICES),
        verbose_name="ロック解除・再設定した暗証番号",
        default=list,
        blank=True,
    )
    # The inquiry-and-answer letter of an ordinary proxy's release: its code ties the visits.
    letter_code = models.CharField(  # noqa: DJ001 - NULL: no letter (the unique index skips it)
        "照会番号", max_length=12, null=True, blank=True
    )
    letter_issued_on = models.DateField("照会書の発送日", null=True, blank=True)
    answer_received_at = models.DateTimeField("回答書の受領日時", null=True, blank=True)
    answer_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="回答書の受領者",
        db_index=False,
    )
    pins_reset_at = models.DateTimeField("ロック解除・再設定の日時", null=True, blank=True)

    # Return and cancellation.
    return_reason = models.CharField(
        "返納・廃止の理由", max_length=16, choices=RETURN_REASON_CHOICES, blank=True
    )

    # Lifting: the card read it rested on (apps.counters.CardRead.read_id).
    card_read_id = models.UUIDField("確認したカード読取", null=True, blank=True)

    class Meta:
        verbose_name = "カードの手続の内容"
        verbose_name_plural = "カードの手続の内容"
        constraints = [
            models.UniqueConstraint(
                fields=["letter_code"],
                condition=models.Q(letter_code__isnull=False),
                name="cardprocedure_letter_code_once",
            ),
            # No release for a proxy before the answer came back (R-PIN-1).
            models.CheckConstraint(
                condition=models.Q(letter_code__isnull=True)
                | models.Q(pins_reset_at__isnull=True)
                | models.Q(answer_received_at__isnull=False),
                name="cardprocedure_no_release_before_answer",
            ),
            models.CheckConstraint(
                condition=~models.Q(certificate_action="") | models.Q(certificate_kind=""),
                name="cardprocedure_certificate_kind_with_action",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} の内容"

    @property
    def awaiting_answer(self) -> bool:
        return self.letter_code is not None and self.answer_received_at is None

    @property
    def pin_labels(self) -> list[str]:
        from apps.certificates.rules import PinKind

        return [PinKind(kind).label for kind in self.pins]
