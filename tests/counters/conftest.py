"""Fixtures of the counters tests: device keys, devices in each state, and a resident whose
card has an AUTH certificate recorded at issuance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from apps.accounts.models import Counter, Office, User
from apps.cards.models import Card
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue, pin_states_initialize
from apps.counters.httpsig import fingerprint
from apps.counters.models import Device, DeviceState
from apps.counters.services import device_approve, device_revoke
from apps.residents.models import Resident
from tests.actors import FIXTURES
from tests.counters.helpers import AUTH_SERIAL, MY_NUMBER, raw_public_key


@pytest.fixture
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def make_device(db: Any, admin_user: User) -> Callable[..., Device]:
    def make(
        key: Ed25519PrivateKey,
        *,
        state: DeviceState = DeviceState.APPROVED,
        counter: Counter | None = None,
        name: str = "1番窓口PC",
    ) -> Device:
        raw = raw_public_key(key)
        device = Device.objects.create(name=name, fingerprint=fingerprint(raw), public_key=raw)
        if state in (DeviceState.APPROVED, DeviceState.REVOKED):
            assert counter is not None
            device = device_approve(acting_user=admin_user, device=device, counter=counter)
        if state == DeviceState.REVOKED:
            device = device_revoke(acting_user=admin_user, device=device)
        return device

    return make


@pytest.fixture
def device(
    make_device: Callable[..., Device], device_key: Ed25519PrivateKey, counter_a: Counter
) -> Device:
    return make_device(device_key, counter=counter_a)


@pytest.fixture
def card_holder(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> Resident:
    """A resident of office A with an active card whose AUTH certificate serial is a0001."""
    resident = make_resident(office_a, my_number=MY_NUMBER)
    card = make_card(resident, applied_on=date(2024, 4, 20), issued_on=date(2024, 5, 15))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial=AUTH_SERIAL,
        issued_on=date(2024, 5, 15),
    )
    pin_states_initialize(acting_user=FIXTURES, card=card)
    return resident


@pytest.fixture
def api() -> Client:
    """A client with no session: what a counter PC is to the server."""
    return Client()
