"""card_read_ingest: matching a read to a resident, PIN states, idempotency, the live NOTIFY."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.models import PinState
from apps.certificates.rules import CertificateKind, PinKind
from apps.certificates.services import certificate_issue
from apps.counters.models import CardRead, Device, MatchMethod, ReadKind
from apps.counters.rules import pin_readings
from apps.counters.services import (
    AuthCertificateData,
    ReadData,
    TextData,
    card_read_ingest,
    counter_channel,
)
from apps.residents.models import Resident
from tests.actors import FIXTURES
from tests.conftest import valid_my_number
from tests.counters.helpers import AUTH_SERIAL, MY_NUMBER, holder_card

FULL = {"auth": 3, "signing": 5, "text": 3, "resident": 3}
UNBLOCKED = {"auth": False, "signing": False, "text": False, "resident": False}


def _data(
    *,
    serial: str | None = AUTH_SERIAL,
    tries: Mapping[str, object] | None = None,
    blocked: Mapping[str, object] | None = None,
    text: TextData | None = None,
    read_at: datetime | None = None,
    read_id: uuid.UUID | None = None,
) -> ReadData:
    return ReadData(
        read_id=read_id or uuid.uuid4(),
        kind=ReadKind.TEXT if text else ReadKind.CARD,
        read_at=read_at or timezone.now(),
        reader_name="Virtual PCD 00 00",
        agent_version="0.1.0",
        certificate=AuthCertificateData(
            serial=serial,
            not_before=datetime(2024, 5, 15, tzinfo=UTC),
            not_after=datetime(2029, 10, 10, tzinfo=UTC),
            issuer="CN=FICTIONAL",
        )
        if serial
        else None,
        pins=pin_readings(tries or FULL, blocked or UNBLOCKED),
        text=text,
    )


def _text(my_number: str = MY_NUMBER, **overrides: str) -> TextData:
    values = {
        "my_number": my_number,
        "name": "山田\u3000花子",
        "address": "みどり市旭町１丁目１番１号",
        "birth_date": "1985-10-10",
        "sex": "2",
    }
    values.update(overrides)
    return TextData(**values)


@pytest.mark.django_db
class TestMatching:
    def test_by_auth_certificate_serial(self, device: Device, card_holder: Resident) -> None:
        read, created = card_read_ingest(device=device, data=_data())
        assert created
        assert (read.match, read.resident, read.card) == (
            MatchMethod.CERTIFICATE,
            card_holder,
            holder_card(),
        )
        assert read.counter == device.counter

    def test_serial_recorded_with_der_padding_still_matches(
        self,
        device: Device,
        make_resident: Callable[..., Resident],
        make_card: Callable[..., Card],
        office_a: Office,
    ) -> None:
        resident = make_resident(office_a)
        card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
        certificate_issue(
            acting_user=FIXTURES,
            card=card,
            kind=CertificateKind.AUTH,
            serial="00:8A:01",
            issued_on=date(2024, 5, 1),
        )
        read, _ = card_read_ingest(device=device, data=_data(serial="8a01"))
        assert read.resident == resident

    def test_a_signing_certificate_serial_is_not_an_auth_match(
        self,
        device: Device,
        make_resident: Callable[..., Resident],
        make_card: Callable[..., Card],
        office_a: Office,
    ) -> None:
        resident = make_resident(office_a)
        card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
        certificate_issue(
            acting_user=FIXTURES,
            card=card,
            kind=CertificateKind.SIGNING,
            serial="5151",
            issued_on=date(2024, 5, 1),
        )
        read, _ = card_read_ingest(device=device, data=_data(serial="5151"))
        assert (read.match, read.resident) == (MatchMethod.NONE, None)

    def test_r_myn_2_text_read_matches_through_the_blind_index(
        self,
        device: Device,
        make_resident: Callable[..., Resident],
        make_card: Callable[..., Card],
        office_a: Office,
    ) -> None:
        resident = make_resident(office_a, my_number=MY_NUMBER)
        card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
        read, _ = card_read_ingest(device=device, data=_data(serial=None, text=_text()))
        assert (read.match, read.resident, read.card) == (MatchMethod.MY_NUMBER, resident, card)
        assert read.text_mismatches == []

    def test_text_read_reports_which_items_differ_and_stores_none(
        self, device: Device, card_holder: Resident
    ) -> None:
        moved = _text(address="みどり市緑町２丁目３番４号")
        read, _ = card_read_ingest(device=device, data=_data(text=moved))
        assert read.match == MatchMethod.MY_NUMBER
        assert read.text_mismatches == ["address"]
        assert "緑町" not in str(CardRead.objects.values().get())

    def test_certificate_and_number_of_two_people_is_a_conflict(
        self,
        device: Device,
        card_holder: Resident,
        make_resident: Callable[..., Resident],
        office_a: Office,
    ) -> None:
        other_number = valid_my_number(19)
        make_resident(office_a, my_number=other_number)
        read, _ = card_read_ingest(device=device, data=_data(text=_text(other_number)))
        assert (read.match, read.resident, read.card) == (MatchMethod.CONFLICT, None, None)

    def test_unknown_card(self, device: Device, card_holder: Resident) -> None:
        read, _ = card_read_ingest(device=device, data=_data(serial="ffff"))
        assert (read.match, read.resident) == (MatchMethod.NONE, None)


@pytest.mark.django_db
class TestPinStates:
    def test_r_pin_3_the_read_counters_are_recorded(
        self, device: Device, card_holder: Resident
    ) -> None:
        blocked = {**UNBLOCKED, "text": True}
        card_read_ingest(
            device=device,
            data=_data(
                tries={"auth": 1, "signing": 4, "text": None, "resident": 3}, blocked=blocked
            ),
        )
        states = {p.kind: p.tries_left for p in PinState.objects.filter(card=holder_card())}
        assert states == {"auth": 1, "signing": 4, "text": 0, "resident": 3}

    def test_an_older_read_arriving_late_does_not_undo_a_newer_one(
        self, device: Device, card_holder: Resident
    ) -> None:
        now = timezone.now()
        newer = {"auth": 1, "signing": 5, "text": 3, "resident": 3}
        card_read_ingest(device=device, data=_data(tries=newer, read_at=now))
        older = {"auth": 3, "signing": 5, "text": 3, "resident": 3}
        card_read_ingest(device=device, data=_data(tries=older, read_at=now - timedelta(minutes=5)))
        auth = PinState.objects.get(card=holder_card(), kind=PinKind.AUTH)
        assert auth.tries_left == 1
        assert auth.observed_at == now

    def test_a_card_guessed_from_the_number_keeps_its_pin_states(
        self,
        device: Device,
        make_resident: Callable[..., Resident],
        make_card: Callable[..., Card],
        office_a: Office,
    ) -> None:
        resident = make_resident(office_a, my_number=MY_NUMBER)
        card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
        tries = {"auth": 0, "signing": 0, "text": 0, "resident": 0}
        card_read_ingest(device=device, data=_data(serial=None, tries=tries, text=_text()))
        assert not PinState.objects.filter(card=card).exists()

    def test_duplicate_read_changes_nothing(self, device: Device, card_holder: Resident) -> None:
        data = _data(tries={"auth": 2, "signing": 5, "text": 3, "resident": 3})
        first, created = card_read_ingest(device=device, data=data)
        again, created_again = card_read_ingest(device=device, data=data)
        assert (created, created_again, again.pk) == (True, False, first.pk)
        assert CardRead.objects.count() == 1

    def test_a_suspended_card_is_still_recognised(
        self, device: Device, card_holder: Resident
    ) -> None:
        from apps.cards.services import card_change_state

        card = holder_card()
        card_change_state(
            acting_user=FIXTURES, card=card, to_state=CardState.SUSPENDED, on=date(2026, 11, 1)
        )
        read, _ = card_read_ingest(device=device, data=_data())
        assert read.card == card


def _listen(channel: str) -> psycopg.Connection:
    conn = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    conn.execute(f"LISTEN {channel}")
    return conn


@pytest.mark.django_db(transaction=True)
def test_the_counter_hears_of_a_read_only_once_it_is_committed(
    device: Device, card_holder: Resident
) -> None:
    assert device.counter_id is not None
    listener = _listen(counter_channel(device.counter_id))
    try:
        read, _ = card_read_ingest(device=device, data=_data())
        notes = list(listener.notifies(timeout=2, stop_after=1))
        assert [n.payload for n in notes] == [str(read.pk)]
        # A duplicate stores nothing and so wakes nobody.
        card_read_ingest(device=device, data=_data(read_id=read.read_id))
        assert list(listener.notifies(timeout=0.3, stop_after=1)) == []
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)
def test_a_read_from_the_outbox_long_after_is_stored_but_not_announced(
    device: Device, card_holder: Resident
) -> None:
    assert device.counter_id is not None
    listener = _listen(counter_channel(device.counter_id))
    try:
        late = _data(read_at=timezone.now() - timedelta(minutes=30))
        _read, created = card_read_ingest(device=device, data=late)
        assert created
        assert list(listener.notifies(timeout=0.5, stop_after=1)) == []
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_read_store_it_once(device: Device, card_holder: Resident) -> None:
    data = _data()
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        try:
            barrier.wait()
            results.append(card_read_ingest(device=device, data=data)[1])
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert CardRead.objects.count() == 1
