"""Reads of the counters app: the fleet, and what a clerk's live panel may show.

A read carries a resident link; whether the clerk sees that resident is decided by
`residents_for(user)`, the one scoping selector, exactly as on the resident pages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import Counter, User
from apps.cards.models import Card
from apps.certificates.models import Certificate
from apps.certificates.rules import PIN_MAX_TRIES, CertificateKind, PinKind
from apps.counters.models import CardRead, Device, DeviceState, MatchMethod
from apps.counters.rules import PIN_ORDER
from apps.residents.models import Resident
from apps.residents.selectors import residents_for


def devices_for(user: User) -> QuerySet[Device]:
    """The whole fleet for an administrator; nothing for anyone else."""
    return policy.restrict(
        Device.objects.select_related("counter__office", "approved_by", "revoked_by"),
        user,
        allowed=policy.may_manage_devices,
        whole_city=policy.may_manage_devices,
    )


def device_get(*, user: User, device_id: uuid.UUID) -> Device:
    try:
        return devices_for(user).get(pk=device_id)
    except Device.DoesNotExist:
        raise Http404 from None


def heartbeat_stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.COUNTER_HEARTBEAT_STALE_SECONDS)


def counter_devices(counter: Counter) -> QuerySet[Device]:
    return Device.objects.filter(counter=counter, state=DeviceState.APPROVED).order_by("name")


def live_counter(user: User) -> Counter | None:
    """The counter whose reads this user's screens show, if any."""
    if not policy.may_watch_counter(user) or user.counter_id is None:
        return None
    return Counter.objects.select_related("office").get(pk=user.counter_id)


def panel_start_after(*, counter: Counter, now: datetime | None = None) -> int:
    """The read id a freshly loaded panel starts after: reads of the last
    COUNTER_PANEL_RECENT_SECONDS are still shown (a clerk's page may reload right after the
    card was read), older ones are not."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.COUNTER_PANEL_RECENT_SECONDS)
    older = (
        CardRead.objects.filter(counter=counter, received_at__lt=cutoff)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return older or 0


def latest_read_after(*, counter: Counter, after: int) -> CardRead | None:
    return (
        CardRead.objects.filter(counter=counter, id__gt=after)
        .select_related("resident", "card")
        .order_by("-id")
        .first()
    )


@dataclass(frozen=True, slots=True)
class PinRow:
    kind: PinKind
    label: str
    tries: int | None
    max_tries: int
    blocked: bool

    @property
    def locked(self) -> bool:
        return self.blocked or self.tries == 0


@dataclass(frozen=True, slots=True)
class PanelRead:
    """Everything the live panel shows of one read, already scoped to the viewing clerk."""

    read: CardRead
    resident: Resident | None  # None: no match, a conflict, or not the clerk's to see
    card: Card | None
    certificate: Certificate | None
    pins: list[PinRow]
    certificate_expired: bool
    delayed: bool

    @property
    def conflict(self) -> bool:
        return self.read.match == MatchMethod.CONFLICT

    @property
    def mismatch_labels(self) -> list[str]:
        items = self.read.text_mismatches if isinstance(self.read.text_mismatches, list) else []
        return [_ITEM_LABELS.get(str(item), str(item)) for item in items]


_ITEM_LABELS = {"name": "氏名", "address": "住所", "birth_date": "生年月日", "sex": "性別"}


def panel_read(*, user: User, read: CardRead, now: datetime | None = None) -> PanelRead:
    now = now or timezone.now()
    resident = None
    card = None
    certificate = None
    if read.resident_id is not None:
        resident = residents_for(user).filter(pk=read.resident_id).first()
    if resident is not None and read.card_id is not None:
        card = Card.objects.get(pk=read.card_id)
        certificate = (
            Certificate.objects.filter(card=card, kind=CertificateKind.AUTH)
            .order_by("-issued_on")
            .first()
        )
    pins = []
    for kind in PIN_ORDER:
        value = read.pin(kind.value)
        tries = value.get("tries")
        pins.append(
            PinRow(
                kind=kind,
                label=kind.label,
                tries=tries if isinstance(tries, int) else None,
                max_tries=PIN_MAX_TRIES[kind],
                blocked=bool(value.get("blocked")),
            )
        )
    not_after = read.certificate_not_after
    return PanelRead(
        read=read,
        resident=resident,
        card=card,
        certificate=certificate,
        pins=pins,
        certificate_expired=not_after is not None and not_after < now,
        delayed=(read.received_at - read.read_at) > timedelta(seconds=30),
    )
