"""The fictional card answering APDUs in process (no pcscd)."""

from __future__ import annotations

import datetime as dt
import socket
import struct

import pytest

from madoguchi_agent import apdu, parsers
from madoguchi_agent.simulator import (
    DEFAULT_ATR,
    PERSONAS,
    SimulatedCard,
    build_card,
    make_my_number,
    persona_data,
)


def send(card, hexstr: str) -> str:  # type: ignore[no-untyped-def]
    return card.process(bytes.fromhex(hexstr)).hex().upper()


def sw(card, command: bytes) -> int:  # type: ignore[no-untyped-def]
    return apdu.Response.from_bytes(card.process(command)).sw


def test_personas_have_valid_fictional_my_numbers() -> None:
    # R-MYN-1: fictional numbers still pass the check digit.
    numbers = {persona_data(p).my_number for p in PERSONAS}
    assert len(numbers) == len(PERSONAS)
    assert all(parsers.is_valid_my_number(n) for n in numbers)
    assert make_my_number("12345678901") == "123456789018"


def test_persona_rejects_invalid_my_number() -> None:
    with pytest.raises(ValueError, match="check digit"):
        persona_data("ordinary", my_number="123456789011")


def test_select_and_unknown_files() -> None:
    card = build_card()
    assert send(card, "00A4040C0AD392F000260100000001") == "9000"
    assert send(card, "00A4020C02000A") == "9000"
    assert send(card, "00A4020C029999") == "6A82"
    assert send(card, "00A4040C0AD3921000310001010402") == "6A82"  # visual AP not simulated
    assert send(card, "80A4040C0AD392F000260100000001") == "6E00"
    assert send(card, "00CA000000") == "6D00"


def test_select_ef_without_ap() -> None:
    assert send(build_card(), "00A4020C02000A") == "6A82"


def test_read_binary_chunks_and_end_of_file() -> None:
    card = build_card()
    send(card, "00A4040C0AD392F000260100000001")
    send(card, "00A4020C02000A")
    head = card.process(apdu.read_binary(0, 4))
    assert head[:2] == b"\x30\x82"
    assert head[-2:] == b"\x90\x00"
    total = parsers.certificate_length(head[:4])
    full = card.process(apdu.read_binary(0, 256))
    assert len(full) == 256 + 2  # Le 00 = 256 bytes
    assert sw(card, apdu.read_binary(0x7FF0, 16)) == 0x6B00  # past the end of the EF
    der = b""
    while len(der) < total:
        der += card.process(apdu.read_binary(len(der), min(256, total - len(der))))[:-2]
    assert der == card.certificates.auth


def test_verify_status_does_not_spend_tries() -> None:
    card = build_card()
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_PIN))
    for _ in range(5):
        assert sw(card, apdu.verify()) == 0x63C3


def test_r_pin_wrong_pin_counts_down_then_blocks() -> None:
    card = build_card(pin="1234")
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_PIN))
    assert sw(card, apdu.verify(b"0000")) == 0x63C2
    assert sw(card, apdu.verify(b"0000")) == 0x63C1
    assert sw(card, apdu.verify(b"0000")) == 0x63C0  # the last wrong try
    assert sw(card, apdu.verify(b"1234")) == 0x6984  # blocked, even with the right PIN
    assert sw(card, apdu.verify()) == 0x6984


def test_r_pin_correct_pin_restores_count() -> None:
    card = build_card(pin="1234")
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_PIN))
    assert sw(card, apdu.verify(b"9999")) == 0x63C2
    assert sw(card, apdu.verify(b"1234")) == 0x9000
    assert sw(card, apdu.verify()) == 0x9000  # verified in this session
    card.reset()  # power off / on: verified state gone, counter restored to 3
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_PIN))
    assert sw(card, apdu.verify()) == 0x63C3


def test_signing_pin_limit_is_five() -> None:
    card = build_card()
    card.process(apdu.select_aid(apdu.AID_JPKI))
    card.process(apdu.select_ef(apdu.EF_JPKI_SIGN_PIN))
    assert sw(card, apdu.verify()) == 0x63C5


def test_protected_ef_needs_verify() -> None:
    card = build_card()
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_MY_NUMBER))
    assert sw(card, apdu.read_binary(0, 17)) == 0x6982
    card.process(apdu.select_ef(apdu.EF_TEXT_PIN))
    card.process(apdu.verify(b"1234"))
    card.process(apdu.select_ef(apdu.EF_TEXT_MY_NUMBER))
    out = card.process(apdu.read_binary(0, 17))
    assert parsers.parse_my_number(out[:-2]) == "123456789018"


def test_leaving_the_ap_drops_verification() -> None:
    card = build_card()
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_PIN))
    card.process(apdu.verify(b"1234"))
    card.process(apdu.select_aid(apdu.AID_JPKI))
    card.process(apdu.select_aid(apdu.AID_TEXT))
    card.process(apdu.select_ef(apdu.EF_TEXT_MY_NUMBER))
    assert sw(card, apdu.read_binary(0, 17)) == 0x6982


def test_signing_cert_needs_signing_password() -> None:
    card = build_card()
    card.process(apdu.select_aid(apdu.AID_JPKI))
    card.process(apdu.select_ef(apdu.EF_JPKI_SIGN_CERT))
    assert sw(card, apdu.read_binary(0, 4)) == 0x6982


def test_persona_child_has_no_signing_certificate() -> None:
    # R-CRT-2: under 15 on the issue date, no SIGNING certificate.
    card = build_card("child")
    card.process(apdu.select_aid(apdu.AID_JPKI))
    assert sw(card, apdu.select_ef(apdu.EF_JPKI_SIGN_CERT)) == 0x6A82
    assert sw(card, apdu.select_ef(apdu.EF_JPKI_AUTH_CERT)) == 0x9000


def test_persona_locked_auth() -> None:
    card = build_card("locked_auth")
    card.process(apdu.select_aid(apdu.AID_JPKI))
    card.process(apdu.select_ef(apdu.EF_JPKI_AUTH_PIN))
    assert sw(card, apdu.verify()) == 0x6984


def test_persona_expired_cert() -> None:
    card = build_card("expired_cert")
    info = parsers.parse_certificate(card.certificates.auth)
    assert info.not_after < dt.datetime.now(dt.UTC)


def test_auth_serial_settable() -> None:
    card = build_card("ordinary", auth_serial=0xDEADBEEF01)
    assert parsers.parse_certificate(card.certificates.auth).serial == "deadbeef01"


def test_malformed_apdu_is_wrong_length() -> None:
    assert send(build_card(), "00A4020C05000A") == "6700"


# --- vpcd wire protocol against a fake vpcd (a local TCP listener), no pcscd ---------------------


def _frame(payload: bytes) -> bytes:
    return struct.pack(">H", len(payload)) + payload


def _read_frame(conn: socket.socket) -> bytes:
    head = b""
    while len(head) < 2:
        head += conn.recv(2 - len(head))
    (n,) = struct.unpack(">H", head)
    data = b""
    while len(data) < n:
        data += conn.recv(n - len(data))
    return data


def test_vpcd_protocol_with_fake_vpcd() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(5)
    card = SimulatedCard(build_card(), port=port, inserted=True).start()
    try:
        conn, _ = listener.accept()
        conn.settimeout(5)
        conn.sendall(_frame(b"\x04"))
        assert _read_frame(conn) == DEFAULT_ATR
        conn.sendall(_frame(b"\x01"))  # power on: no answer expected
        conn.sendall(_frame(apdu.select_aid(apdu.AID_TEXT)))
        assert _read_frame(conn) == b"\x90\x00"
        conn.sendall(_frame(apdu.select_ef(apdu.EF_TEXT_PIN)))
        _read_frame(conn)
        conn.sendall(_frame(apdu.verify(b"1234")))
        assert _read_frame(conn) == b"\x90\x00"
        conn.sendall(_frame(b"\x02"))  # reset clears the verified state
        conn.sendall(_frame(apdu.select_aid(apdu.AID_TEXT)))
        _read_frame(conn)
        conn.sendall(_frame(apdu.select_ef(apdu.EF_TEXT_MY_NUMBER)))
        _read_frame(conn)
        conn.sendall(_frame(apdu.read_binary(0, 17)))
        assert _read_frame(conn) == b"\x69\x82"
        # Removal closes the connection; insertion connects again.
        card.remove()
        assert conn.recv(1) == b""
        conn.close()
        card.insert()
        conn2, _ = listener.accept()
        conn2.settimeout(5)
        conn2.sendall(_frame(b"\x04"))
        assert _read_frame(conn2) == DEFAULT_ATR
        conn2.close()
    finally:
        card.stop()
        listener.close()


def test_simulated_card_waits_for_pcscd() -> None:
    # Start order does not matter: the card keeps trying to connect.
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    card = SimulatedCard(build_card(), port=port).start()
    try:
        assert not card.wait_connected(0.3)
        listener = socket.create_server(("127.0.0.1", port))
        listener.settimeout(5)
        conn, _ = listener.accept()
        assert card.wait_connected(2)
        conn.close()
        listener.close()
    finally:
        card.stop()
    assert card._thread is not None
    assert not card._thread.is_alive()
