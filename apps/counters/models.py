"""Reader devices (counter PCs), their request nonces, and the card reads they push.

A device is known only by its Ed25519 public key. It can post reads and heartbeats once an
administrator has approved it for one counter; nothing else in the system accepts its key.
A read keeps no personal data from the card: the My Number of a text read is used once, through
the blind index, to find the resident, and only that link is stored (R-MYN-2).

The counter itself (``accounts.Counter``) is not here: staff and money are counted per counter
in apps below this one (the accounts module docstring says why).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact


class DeviceState(models.TextChoices):
    PENDING = "pending", "承認待ち"
    APPROVED = "approved", "承認済"
    REVOKED = "revoked", "失効"


class ReaderStatus(models.TextChoices):
    OK = "ok", "正常"
    NO_READER = "no_reader", "リーダー未接続"
    PCSCD_DOWN = "pcscd_down", "PC/SCサービス停止"


class Device(models.Model):
    """A counter PC running the reader agent, identified by its device key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("端末名", max_length=100)
    # `SHA256:` + unpadded base64 of SHA-256 over the raw key: the keyid of every signature.
    fingerprint = models.CharField("鍵の指紋", max_length=64, unique=True)
    public_key = models.BinaryField("公開鍵 (Ed25519)", editable=False)
    state = models.CharField(
        "状態", max_length=16, choices=DeviceState.choices, default=DeviceState.PENDING
    )
    counter = models.ForeignKey(
        "accounts.Counter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name="窓口",
    )
    enrolled_at = models.DateTimeField("登録申請日時", auto_now_add=True)
    enrolled_from = models.GenericIPAddressField("申請元IPアドレス", null=True, blank=True)
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承認者",
    )
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="失効させた職員",
    )
    agent_version = models.CharField("エージェントの版", max_length=32, blank=True)
    reader_name = models.CharField("リーダー名", max_length=200, blank=True)
    reader_status = models.CharField(
        "リーダーの状態", max_length=16, choices=ReaderStatus.choices, blank=True
    )
    last_heartbeat_at = models.DateTimeField("最終応答", null=True, blank=True)
    last_read_at = models.DateTimeField("最終読取", null=True, blank=True)

    class Meta:
        verbose_name = "読取端末"
        verbose_name_plural = "読取端末"
        ordering = ["state", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in DeviceState]),
                name="device_state_valid",
            ),
            # An approved device always knows its counter: a read must land somewhere.
            models.CheckConstraint(
                condition=~models.Q(state="approved") | models.Q(counter__isnull=False),
                name="device_approved_has_counter",
            ),
            models.CheckConstraint(
                condition=models.Q(fingerprint__startswith="SHA256:"),
                name="device_fingerprint_sha256",
            ),
            models.CheckConstraint(
                condition=Exact(Length("public_key"), 32), name="device_public_key_32_bytes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"


class DeviceNonce(models.Model):
    """A nonce a device has used. The unique constraint is what makes replay detection
    race-safe; rows older than the clock-skew window are pruned (a replay of them would fail
    the skew check anyway)."""

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=128)
    # The signature's `created`, not our receipt time: the skew check is made against it.
    created = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "署名のnonce"
        verbose_name_plural = "署名のnonce"
        constraints = [
            models.UniqueConstraint(fields=["device", "nonce"], name="devicenonce_once_per_device")
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.nonce[:8]}…"


class ReadKind(models.TextChoices):
    CARD = "card", "カード(証明書・暗証番号の状態)"
    TEXT = "text", "券面事項"


class MatchMethod(models.TextChoices):
    CERTIFICATE = "certificate", "利用者証明用電子証明書のシリアル番号"
    MY_NUMBER = "my_number", "個人番号(ブラインドインデックス)"
    NONE = "none", "一致なし"
    CONFLICT = "conflict", "証明書と券面事項が別の住民を指す"


class CardRead(models.Model):
    """One card read at a counter, stored once per `read_id` (the agent's idempotency key)."""

    # Sequential: the live panel's server-sent events use it as the event id.
    id = models.BigAutoField(primary_key=True)
    read_id = models.UUIDField("読取ID", unique=True)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="reads")
    counter = models.ForeignKey(
        "accounts.Counter", on_delete=models.PROTECT, related_name="card_reads"
    )
    kind = models.CharField("種類", max_length=8, choices=ReadKind.choices)
    read_at = models.DateTimeField("読取日時")
    received_at = models.DateTimeField("受信日時", auto_now_add=True)
    reader_name = models.CharField("リーダー名", max_length=200, blank=True)
    agent_version = models.CharField("エージェントの版", max_length=32, blank=True)

    certificate_serial = models.CharField("証明書シリアル番号", max_length=66, blank=True)
    certificate_not_before = models.DateTimeField(null=True, blank=True)
    certificate_not_after = models.DateTimeField(null=True, blank=True)
    certificate_issuer = models.CharField(max_length=255, blank=True)
    # {"auth": {"tries": 2, "blocked": false}, ...} for the four PINs (R-PIN-3: never a PIN).
    pins = models.JSONField("暗証番号の残り回数", default=dict)

    match = models.CharField(
        "照合方法", max_length=16, choices=MatchMethod.choices, default=MatchMethod.NONE
    )
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_reads",
        verbose_name="住民",
    )
    card = models.ForeignKey(
        "cards.Card",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reads",
        verbose_name="カード",
    )
    # Names of the basic-four items that differ from the register ("name", "address", ...):
    # the clerk learns that the chip needs updating without the card's values being kept.
    text_mismatches = models.JSONField("券面事項の相違", default=list, blank=True)

    class Meta:
        verbose_name = "カード読取"
        verbose_name_plural = "カード読取"
        ordering = ["-id"]
        indexes = [models.Index(fields=["counter", "-id"], name="cardread_counter_latest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in ReadKind]), name="cardread_kind"
            ),
            models.CheckConstraint(
                condition=~models.Q(match__in=["certificate", "my_number"])
                | models.Q(resident__isnull=False),
                name="cardread_match_has_resident",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.read_at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}"

    def pin(self, key: str) -> dict[str, object]:
        value = self.pins.get(key) if isinstance(self.pins, dict) else None
        return value if isinstance(value, dict) else {"tries": None, "blocked": False}
