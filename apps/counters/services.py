"""Every write of the counters app: device enrollment and trust, signed-request checks, card-read
ingest (matching, PIN state, live notification) and the access-log row of a shown read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.accounts import policy
from apps.accounts.models import Counter, User
from apps.applications.card_services import Applicant, suspension_lift_record
from apps.applications.models import Application
from apps.audit.models import AccessLog, Action
from apps.audit.services import access_log_record
from apps.cards.models import CURRENT_STATES, Card
from apps.certificates.models import Certificate
from apps.certificates.rules import CertificateKind, PinKind
from apps.certificates.services import pin_states_observe
from apps.core.service import SystemActor, service
from apps.counters import httpsig
from apps.counters.models import (
    CardRead,
    Device,
    DeviceNonce,
    DeviceState,
    MatchMethod,
    ReaderStatus,
    ReadKind,
)
from apps.counters.rules import (
    MAX_SKEW_SECONDS,
    PinReading,
    basic_four_mismatches,
    lift_read_problem,
    serial_candidates,
    shown_on_panel,
)
from apps.residents.crypto import my_number_index
from apps.residents.models import Resident

# --- devices ------------------------------------------------------------------------------------


class EnrollmentRefused(Exception):
    """The enrollment cannot be taken now; `message` is for the API answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


ENROLLMENT = SystemActor("counters.device_enroll")
# The default actor of a device's pushes; the API names the device itself (device_actor).
DEVICE_PUSH = SystemActor("counters.device_push")


def device_actor(device: Device) -> SystemActor:
    """Who a device's pushes act as: the device itself (its history names it)."""
    return SystemActor(f"device:{device.pk}")


@service
def device_enroll(
    *,
    acting_user: SystemActor = ENROLLMENT,
    name: str,
    public_key: bytes,
    fingerprint: str,
    signature_headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    ip_address: str | None,
    now: float | None = None,
) -> tuple[Device, bool]:
    """Register a counter PC's key as a PENDING device; (device, created).

    Anyone on the network may ask, so nothing is trusted yet: an administrator approves the
    fingerprint for a counter. The request must still be signed by the key it enrolls (proof
    of possession), so nobody can enroll a key they do not hold. Idempotent per fingerprint:
    a repeat returns the existing device in whatever state it is (a revoked key stays revoked).
    The number of pending devices is capped so that an open endpoint cannot fill the table.
    """
    if len(public_key) != 32:
        raise EnrollmentRefused("public_key は32バイトの Ed25519 公開鍵 (base64) にしてください。")
    if httpsig.fingerprint(public_key) != fingerprint:
        raise EnrollmentRefused("fingerprint が公開鍵と一致しません。")
    signed = httpsig.parse(signature_headers)
    if signed.keyid != fingerprint:
        raise httpsig.UnknownKey("enrollment must be signed by the enrolled key")
    httpsig.verify(
        signed=signed,
        public_key=public_key,
        method=method,
        path=path,
        body=body,
        now=time.time() if now is None else now,
        max_skew=MAX_SKEW_SECONDS,
    )
    # One enrollment at a time: makes the cap exact and the fingerprint check race-free.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('counters.device_enroll'))")
    existing = Device.objects.select_for_update().filter(fingerprint=fingerprint).first()
    if existing is not None:
        if existing.state == DeviceState.PENDING and existing.name != name:
            existing.name = name
            existing.save(update_fields=["name"])
        return existing, False
    pending = Device.objects.filter(state=DeviceState.PENDING).count()
    if pending >= settings.COUNTER_MAX_PENDING_DEVICES:
        raise EnrollmentRefused(
            "承認待ちの端末が上限に達しています。管理者に連絡してください。", status=429
        )
    device = Device.objects.create(
        name=name, fingerprint=fingerprint, public_key=public_key, enrolled_from=ip_address
    )
    return device, True


@service
def device_approve(*, acting_user: User, device: Device, counter: Counter) -> Device:
    """Trust a pending device's key for one counter (an administrator's decision)."""
    policy.check(policy.may_manage_devices(acting_user))
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.state != DeviceState.PENDING:
        raise ValidationError("承認待ちの端末だけを承認できます。")
    device.state = DeviceState.APPROVED
    device.counter = counter
    device.approved_at = timezone.now()
    device.approved_by = acting_user
    device.save(update_fields=["state", "counter", "approved_at", "approved_by"])
    return device


@service
def device_revoke(*, acting_user: User, device: Device) -> Device:
    """Stop trusting a device's key for good (lost PC, replaced disk). Its reads stay stored;
    a new key must be enrolled and approved to use the PC again."""
    policy.check(policy.may_manage_devices(acting_user))
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.state == DeviceState.REVOKED:
        raise ValidationError("この端末は既に失効しています。")
    device.state = DeviceState.REVOKED
    device.revoked_at = timezone.now()
    device.revoked_by = acting_user
    device.save(update_fields=["state", "revoked_at", "revoked_by"])
    return device


def device_authenticate(  # not a service: the signature check, before any actor is known
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> Device:
    """The approved device that signed this request, or httpsig.SignatureRejected.

    Checks in order: header shape, an approved key (unknown, pending and revoked keys are all
    "unknown"), digest, signature, clock skew (90 s), and last the nonce, so that only genuine
    requests ever reach the nonce store.
    """
    now = time.time() if now is None else now
    signed = httpsig.parse(headers)
    device = (
        Device.objects.select_related("counter")
        .filter(fingerprint=signed.keyid, state=DeviceState.APPROVED)
        .first()
    )
    if device is None:
        raise httpsig.UnknownKey("no approved device has this key")
    httpsig.verify(
        signed=signed,
        public_key=bytes(device.public_key),
        method=method,
        path=path,
        body=body,
        now=now,
        max_skew=MAX_SKEW_SECONDS,
    )
    _nonce_consume(device=device, nonce=signed.nonce, created=signed.created, now=now)
    return device


def _nonce_consume(*, device: Device, nonce: str, created: int, now: float) -> None:
    # A nonce whose `created` is older than the skew window can no longer pass the skew check,
    # so forgetting it is safe; a few seconds' margin covers rounding of `created`.
    cutoff = datetime.fromtimestamp(now - MAX_SKEW_SECONDS - 5, tz=UTC)
    DeviceNonce.objects.filter(created__lt=cutoff).delete()
    try:
        with transaction.atomic():
            DeviceNonce.objects.create(
                device=device, nonce=nonce, created=datetime.fromtimestamp(created, tz=UTC)
            )
    except IntegrityError:
        raise httpsig.ReplayedNonce("nonce already used") from None


@service
def device_heartbeat(
    *,
    acting_user: SystemActor = DEVICE_PUSH,
    device: Device,
    agent_version: str,
    reader_name: str | None,
    reader_status: ReaderStatus,
) -> None:
    """What the fleet page shows: the agent is alive, which version, which reader, its state."""
    Device.objects.filter(pk=device.pk).update(
        agent_version=agent_version,
        reader_name=reader_name or "",
        reader_status=reader_status,
        last_heartbeat_at=timezone.now(),
    )


# --- card reads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthCertificateData:
    serial: str
    not_before: datetime
    not_after: datetime
    issuer: str


@dataclass(frozen=True, slots=True)
class TextData:
    """The text AP's items. Used for matching and comparison only, never stored (R-MYN-2)."""

    my_number: str = field(repr=False)
    name: str = field(repr=False)
    address: str = field(repr=False)
    birth_date: str = field(repr=False)  # YYYY-MM-DD as printed; may be partly 00
    sex: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReadData:
    read_id: uuid.UUID
    kind: ReadKind
    read_at: datetime
    reader_name: str
    agent_version: str
    certificate: AuthCertificateData | None
    pins: dict[PinKind, PinReading]
    text: TextData | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class _Match:
    method: MatchMethod
    resident: Resident | None = None
    card: Card | None = None
    # The card is known from its own certificate, not guessed as "the resident's current card".
    card_identified: bool = False
    mismatches: tuple[str, ...] = ()


def counter_channel(counter_id: uuid.UUID) -> str:
    """The PostgreSQL NOTIFY channel of one counter's live panel."""
    return f"counter_{counter_id.hex}"


@sensitive_variables()  # a text read's My Number must not reach an error report (R-MYN-2)
def _match(data: ReadData) -> _Match:
    """AUTH certificate serial recorded at issuance → card → resident; or, for a text read,
    the My Number's blind index → resident (R-MYN-2: the number itself is not kept)."""
    certificate = None
    if data.certificate is not None:
        serials = serial_candidates(data.certificate.serial)
        certificate = (
            Certificate.objects.select_related("card__resident")
            .filter(kind=CertificateKind.AUTH, serial__in=serials)
            .first()
        )
    by_number = None
    if data.text is not None:
        by_number = Resident.objects.filter(
            my_number_index=my_number_index(data.text.my_number)
        ).first()
    if by_number is None and certificate is None:
        return _Match(method=MatchMethod.NONE)
    if by_number is None:
        assert certificate is not None  # noqa: S101 - narrowed by the test above
        return _Match(
            method=MatchMethod.CERTIFICATE,
            resident=certificate.card.resident,
            card=certificate.card,
            card_identified=True,
        )
    if certificate is not None and certificate.card.resident_id != by_number.pk:
        # The chip's certificate and its printed number point at two people: show neither.
        return _Match(method=MatchMethod.CONFLICT)
    assert data.text is not None  # noqa: S101 - by_number implies a text read
    mismatches = basic_four_mismatches(
        card={
            "name": data.text.name,
            "address": data.text.address,
            "birth_date": data.text.birth_date,
            "sex": data.text.sex,
        },
        register={
            "name": by_number.full_name,
            "address": by_number.address,
            "birth_date": by_number.birth_date.isoformat(),
            "sex": by_number.sex,
        },
    )
    # With the certificate the card is known; without it, the resident's current card is the
    # best guess for display, and its PIN states are then left alone.
    card = (
        certificate.card
        if certificate is not None
        else Card.objects.filter(resident=by_number, state__in=CURRENT_STATES)
        .order_by("-applied_on")
        .first()
    )
    return _Match(
        method=MatchMethod.MY_NUMBER,
        resident=by_number,
        card=card,
        card_identified=certificate is not None,
        mismatches=tuple(mismatches),
    )


@sensitive_variables()
@service
def card_read_ingest(
    *, acting_user: SystemActor = DEVICE_PUSH, device: Device, data: ReadData
) -> tuple[CardRead, bool]:
    """Store one read once (per read_id), match it to a resident, update the card's PIN
    states, and wake the counter's live panels; (read, created).

    The NOTIFY is sent inside this transaction, so PostgreSQL delivers it only at commit:
    a panel never hears of a read it cannot yet see.
    """
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.state != DeviceState.APPROVED or device.counter_id is None:
        raise httpsig.UnknownKey("device is no longer approved")
    existing = CardRead.objects.filter(read_id=data.read_id).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    # A device clock a little ahead must not make a read "newer" than the present.
    read_at = min(data.read_at, now)
    match = _match(data)
    certificate = data.certificate
    try:
        with transaction.atomic():
            read = CardRead.objects.create(
                read_id=data.read_id,
                device=device,
                counter_id=device.counter_id,
                kind=data.kind,
                read_at=read_at,
                reader_name=data.reader_name,
                agent_version=data.agent_version,
                certificate_serial=certificate.serial if certificate else "",
                certificate_not_before=certificate.not_before if certificate else None,
                certificate_not_after=certificate.not_after if certificate else None,
                certificate_issuer=certificate.issuer if certificate else "",
                pins={
                    kind.value: {"tries": reading.tries, "blocked": reading.blocked}
                    for kind, reading in data.pins.items()
                },
                match=match.method,
                resident=match.resident,
                card=match.card,
                text_mismatches=list(match.mismatches),
            )
    except IntegrityError:
        # Another request with this read_id committed while we were matching.
        return CardRead.objects.get(read_id=data.read_id), False
    if match.card is not None and match.card_identified:
        pin_states_observe(
            acting_user=acting_user,
            card=match.card,
            tries_left={kind: reading.tries_left for kind, reading in data.pins.items()},
            read_at=read_at,
        )
    device.last_read_at = now
    if data.agent_version:
        device.agent_version = data.agent_version
    device.save(update_fields=["last_read_at", "agent_version"])
    if shown_on_panel(
        read_at=read_at,
        received_at=read.received_at,
        max_age_seconds=settings.COUNTER_PANEL_MAX_READ_AGE,
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, %s)", [counter_channel(device.counter_id), str(read.pk)]
            )
    return read, True


@service
def card_read_log_shown(
    *,
    acting_user: User,
    read: CardRead,
    resident: Resident | None,
    ip_address: str | None,
) -> AccessLog:
    """The access-log row of a read put on a clerk's screen. `resident` is the one the clerk
    actually sees (None when the read matched nobody the clerk may see)."""
    return access_log_record(
        actor=acting_user,
        action=Action.CARD_READ,
        resident=resident,
        detail={
            "read": str(read.read_id),
            "counter": str(read.counter_id),
            "match": read.match if resident is not None else MatchMethod.NONE.value,
        },
        ip_address=ip_address,
    )


# --- lifting a suspension with the card read (R-SUS-2) ------------------------------------------


@service
def suspension_lift_at_counter(
    *, acting_user: User, card: Card, read: CardRead, applicant: Applicant
) -> Application:
    """Lift a suspension at the counter after the card was read there (R-SUS-2).

    The read must be this clerk's counter's, fresh and of this very card (its AUTH serial
    matched, ``lift_read_problem``); then the identity check and the lifting itself
    (apps.applications.card_services.suspension_lift_record, which refuses a cancelled
    card). The read is loaded again here: what the form saw may be stale.
    """
    read = CardRead.objects.get(pk=read.pk)
    problem = lift_read_problem(
        read_counter_id=read.counter_id,
        clerk_counter_id=acting_user.counter_id,
        read_card_id=read.card_id,
        card_id=card.pk,
        card_identified=read.match == MatchMethod.CERTIFICATE
        or (read.match == MatchMethod.MY_NUMBER and bool(read.certificate_serial)),
        read_at=read.read_at,
        now=timezone.now(),
    )
    if problem:
        raise ValidationError(problem)
    return suspension_lift_record(
        acting_user=acting_user, card=card, applicant=applicant, card_read_id=read.read_id
    )
