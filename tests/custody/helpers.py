"""Helpers for the handover interlock: a reader device at a counter, reads through the real
ingest service, an arrival lot and pre-handover setup through the real custody services.

Other apps' tests that hand a card over use :func:`ready_to_hand_over` first: every handover
passes R-HND-1…5 (apps.custody registers its gate with apps.applications).
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import datetime

from django.utils import timezone

from apps.accounts.models import Counter, User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.cards.models import Card
from apps.certificates.rules import PinKind
from apps.counters.httpsig import fingerprint
from apps.counters.models import CardRead, Device, DeviceState, ReadKind
from apps.counters.rules import PinReading
from apps.counters.services import AuthCertificateData, ReadData, card_read_ingest, device_approve
from apps.custody.models import CardCustody, Lot, Place, PlaceKind
from apps.custody.services import card_setup_bind, handover_read_check, lot_receive

_serials = itertools.count(0xC0570000)


def new_serial() -> str:
    """A fresh AUTH serial as the agent sends it (lower-case hex, no padding)."""
    return f"{next(_serials):x}"


def _admin() -> User:
    admin = User.objects.filter(role=Role.ADMIN).first()
    if admin is not None:
        return admin
    return User.objects.create_user(
        username=f"custody-admin-{uuid.uuid4().hex[:6]}", password="x" * 16, role=Role.ADMIN
    )


def reader_at(counter: Counter) -> Device:
    """The counter's approved reader device (made once per counter)."""
    device = Device.objects.filter(counter=counter, state=DeviceState.APPROVED).first()
    if device is not None:
        return device
    raw = os.urandom(32)
    device = Device.objects.create(
        name=f"{counter.name}PC", fingerprint=fingerprint(raw), public_key=raw
    )
    return device_approve(acting_user=_admin(), device=device, counter=counter)


def read_card(counter: Counter, serial: str, *, read_at: datetime | None = None) -> CardRead:
    """A card put on the counter's reader: the read as the agent pushes it."""
    now = timezone.now()
    read, _ = card_read_ingest(
        device=reader_at(counter),
        data=ReadData(
            read_id=uuid.uuid4(),
            kind=ReadKind.CARD,
            read_at=read_at or now,
            reader_name="Virtual PCD 00 01",
            agent_version="test",
            certificate=AuthCertificateData(
                serial=serial,
                not_before=now,
                not_after=now.replace(year=now.year + 5),
                issuer="JPKI test",
            ),
            pins={kind: PinReading(kind=kind, tries=3, blocked=False) for kind in PinKind},
        ),
    )
    return read


def card_of(application: Application) -> Card:
    """The application's new card, as the database has it now."""
    assert application.new_card_id is not None
    return Card.objects.get(pk=application.new_card_id)


def place_of(user: User, name: str = "金庫") -> Place:
    assert user.office_id is not None
    place, _ = Place.objects.get_or_create(
        office_id=user.office_id, name=name, defaults={"kind": PlaceKind.SAFE}
    )
    return place


def receive(user: User, application: Application) -> CardCustody:
    """The application's arrived card received into custody (its lot made if needed)."""
    assert application.new_card_id is not None
    existing = CardCustody.objects.filter(pk=application.new_card_id).first()
    if existing is not None:
        return existing
    card = application.new_card
    assert card is not None
    assert card.arrived_on is not None
    lot_receive(acting_user=user, place=place_of(user), arrived_on=card.arrived_on)
    return CardCustody.objects.get(pk=card.pk)


def set_up(user: User, application: Application, serial: str | None = None) -> CardCustody:
    """Pre-handover setup (R-HND-1): the card read on ``user``'s reader and bound."""
    custody = receive(user, application)
    if custody.is_set_up:
        return custody
    assert user.counter is not None
    read = read_card(user.counter, serial or new_serial())
    lot = Lot.objects.get(pk=custody.lot_id)
    return card_setup_bind(acting_user=user, lot=lot, card=custody.card, read=read)


def ready_to_hand_over(user: User, application: Application) -> CardCustody:
    """Set up if needed, then the right card read at ``user``'s counter and judged green."""
    application = Application.objects.get(pk=application.pk)
    custody = set_up(user, application)
    assert user.counter is not None
    read_card(user.counter, custody.auth_serial)
    interlock = handover_read_check(acting_user=user, application=application)
    assert interlock.check is not None
    assert interlock.check.matches
    return custody
