"""CardSession over the in-process card (no pcscd): what the agent reads and how it fails."""

from __future__ import annotations

import logging

import pytest
from agent_helpers import FakeConnection, FakeWorld

from madoguchi_agent import apdu
from madoguchi_agent.card import CardSession, PinState, validate_four_digit_pin
from madoguchi_agent.errors import (
    CardDataError,
    CardError,
    CardRemoved,
    InvalidPinFormat,
    PinBlocked,
    WrongPin,
)
from madoguchi_agent.simulator import CardModel, build_card


class CountingTransport:
    def __init__(self, card: CardModel) -> None:
        self.card = card
        self.commands: list[bytes] = []

    def transmit(self, command: bytes) -> apdu.Response:
        self.commands.append(command)
        return self.card.transmit(command)


def test_read_card_ordinary() -> None:
    card = build_card("ordinary", auth_serial=0xABC123)
    read = CardSession(card).read_card()
    assert read.auth_certificate is not None
    assert read.auth_certificate.serial == "abc123"
    assert read.pins.pin_tries() == {"auth": 3, "signing": 5, "text": 3, "resident": 3}
    assert read.pins.pin_blocked() == dict.fromkeys(("auth", "signing", "text", "resident"), False)


def test_read_card_spends_no_tries_and_no_pin_is_sent() -> None:
    t = CountingTransport(build_card())
    CardSession(t).read_card()
    CardSession(t).read_card()
    verifies = [c for c in t.commands if c[1] == 0x20]
    assert len(verifies) == 8
    assert all(len(c) == 4 for c in verifies)  # VERIFY without data only
    assert t.card.pins["auth"].tries_left == 3


def test_certificate_read_in_chunks_of_at_most_256() -> None:
    t = CountingTransport(build_card())
    der = CardSession(t).read_auth_certificate_der()
    assert der == t.card.certificates.auth
    reads = [c for c in t.commands if c[1] == 0xB0]
    assert len(reads) >= 1 + len(der) // 256
    assert all(c[4] in range(0, 256) for c in reads)


def test_r_pin_locked_auth_persona() -> None:
    read = CardSession(build_card("locked_auth")).read_card()
    assert read.pins.auth == PinState(tries=0, blocked=True)
    assert read.pins.text == PinState(tries=3, blocked=False)


def test_r_crt_2_child_has_no_signing_pin() -> None:
    read = CardSession(build_card("child")).read_card()
    assert read.pins.signing == PinState(tries=None, blocked=False)
    assert read.auth_certificate is not None
    assert not CardSession(build_card("child")).has_signing_certificate()
    assert CardSession(build_card("ordinary")).has_signing_certificate()


def test_card_without_auth_certificate() -> None:
    card = build_card()
    card.aps[apdu.AID_JPKI].efs[apdu.EF_JPKI_AUTH_CERT].data = b"\xff" * 2048
    assert CardSession(card).read_card().auth_certificate is None
    del card.aps[apdu.AID_JPKI].efs[apdu.EF_JPKI_AUTH_CERT]
    assert CardSession(card).read_card().auth_certificate is None


def test_card_without_resident_ap() -> None:
    card = build_card()
    del card.aps[apdu.AID_RESIDENT]
    assert CardSession(card).read_card().pins.resident == PinState(tries=None, blocked=False)


def test_not_a_my_number_card() -> None:
    # No JPKI application at all: some other card was put on the reader.
    card = build_card()
    card.aps.clear()
    with pytest.raises(CardError) as info:
        CardSession(card).read_card()
    assert "マイナンバーカード" in info.value.for_clerk()


def test_read_text_ap() -> None:
    card = build_card("ordinary", pin="4321")
    session = CardSession(card)
    text = session.read_text_ap("4321")
    assert text.my_number == "123456789018"
    assert text.basic.name == "窓口　花子"
    assert text.to_json()["birth_date"] == "1985-04-01"
    assert session.pin_verified
    assert "123456789018" not in repr(text)


def test_r_pin_wrong_pin_raises_tries_left() -> None:
    card = build_card(pin="1234")
    with pytest.raises(WrongPin) as e1:
        CardSession(card).read_text_ap("1111")
    assert e1.value.tries_left == 2
    assert "2" in e1.value.for_clerk()
    with pytest.raises(WrongPin):
        CardSession(card).read_text_ap("1111")
    with pytest.raises(WrongPin) as e3:
        CardSession(card).read_text_ap("1111")
    assert e3.value.tries_left == 0
    with pytest.raises(PinBlocked):
        CardSession(card).read_text_ap("1234")
    assert CardSession(card).read_pin_status().text == PinState(tries=0, blocked=True)


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４", ""])
def test_r_pin_format_checked_before_sending(pin: str) -> None:
    t = CountingTransport(build_card())
    with pytest.raises(InvalidPinFormat):
        CardSession(t).read_text_ap(pin)
    assert not any(c[1] == 0x20 for c in t.commands)
    assert t.card.pins["text"].tries_left == 3


def test_pin_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    # R-PIN-3: even with debug logging on, the PIN never appears.
    caplog.set_level(logging.DEBUG)
    CardSession(build_card(pin="8642")).read_text_ap("8642")
    with pytest.raises(WrongPin):
        CardSession(build_card(pin="8642")).read_text_ap("9753")
    assert "8642" not in caplog.text
    assert "9753" not in caplog.text
    assert "38 36 34 32" not in caplog.text


def test_validate_four_digit_pin() -> None:
    assert validate_four_digit_pin("0000") == b"0000"


def test_card_removed_mid_read() -> None:
    world = FakeWorld(model=build_card(), remove_after_apdus=5)
    with pytest.raises(CardRemoved):
        CardSession(FakeConnection(world)).read_card()


def test_corrupt_certificate_header() -> None:
    card = build_card()
    ef = card.aps[apdu.AID_JPKI].efs[apdu.EF_JPKI_AUTH_CERT]
    ef.data = b"\x31\x82\x01\x00" + ef.data[4:]
    with pytest.raises(CardDataError):
        CardSession(card).read_card()


def test_corrupt_text_data() -> None:
    card = build_card()
    ef = card.aps[apdu.AID_TEXT].efs[apdu.EF_TEXT_MY_NUMBER]
    ef.data = b"\xff\x10\x0c" + b"12345678901X" + b"\xff\xff"
    with pytest.raises(CardDataError):
        CardSession(card).read_text_ap("1234")


def test_unexpected_status_word() -> None:
    class Broken:
        def transmit(self, command: bytes) -> apdu.Response:
            return apdu.Response(b"", 0x6F, 0x00)

    with pytest.raises(CardError) as info:
        CardSession(Broken()).read_card()
    assert info.value.sw == 0x6F00


def test_read_binary_accepts_6282_end_of_file_warning() -> None:
    class ShortReads:
        def __init__(self) -> None:
            self.card = build_card()

        def transmit(self, command: bytes) -> apdu.Response:
            r = self.card.transmit(command)
            if command[1] == 0xB0 and r.ok and len(r.data) < (command[4] or 256):
                return apdu.Response(r.data, 0x62, 0x82)
            return r

    t = ShortReads()
    text = CardSession(t).read_text_ap("1234")
    assert text.my_number == "123456789018"
