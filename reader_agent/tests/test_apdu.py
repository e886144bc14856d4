"""Command builders and status-word helpers (CARD_PROTOCOL.md)."""

from __future__ import annotations

import pytest

from madoguchi_agent import apdu


def test_select_aid_jpki() -> None:
    assert apdu.select_aid(apdu.AID_JPKI).hex().upper() == "00A4040C0AD392F000260100000001"


def test_select_aid_text() -> None:
    assert apdu.select_aid(apdu.AID_TEXT).hex().upper() == "00A4040C0AD3921000310001010408"


def test_select_ef() -> None:
    assert apdu.select_ef(0x000A).hex().upper() == "00A4020C02000A"
    assert apdu.select_ef(b"\x00\x1b").hex().upper() == "00A4020C02001B"
    with pytest.raises(ValueError, match="two bytes"):
        apdu.select_ef(0x10000)


def test_read_binary_offsets_and_le() -> None:
    assert apdu.read_binary(0, 4).hex().upper() == "00B0000004"
    assert apdu.read_binary(0x0100, 256).hex().upper() == "00B0010000"  # Le 00 = 256
    assert apdu.read_binary(0x7FFF, 1).hex().upper() == "00B07FFF01"
    with pytest.raises(ValueError, match="15 bits"):
        apdu.read_binary(0x8000, 1)  # bit 8 of P1 would mean a short EF id
    with pytest.raises(ValueError, match="Le must be"):
        apdu.read_binary(0, 257)
    with pytest.raises(ValueError, match="Le must be"):
        apdu.read_binary(0, 0)


def test_verify_with_and_without_data() -> None:
    assert apdu.verify().hex().upper() == "00200080"  # status only, no Lc: spends no try
    assert apdu.verify(b"1234").hex().upper() == "002000800431323334"


def test_redact_hides_pin() -> None:
    # R-PIN-3: VERIFY data never reaches a log line.
    text = apdu.redact(apdu.verify(b"1234"))
    assert "31 32 33 34" not in text
    assert text.startswith("00 20 00 80")
    assert apdu.redact(apdu.select_ef(0x0A)) == "00 A4 02 0C 02 00 0A"


@pytest.mark.parametrize(
    ("raw", "tries", "blocked", "ok"),
    [
        ("63C3", 3, False, False),
        ("63C0", 0, False, False),
        ("6984", None, True, False),
        ("6983", None, True, False),
        ("9000", None, False, True),
        ("6A82", None, False, False),
    ],
)
def test_status_helpers(raw: str, tries: int | None, blocked: bool, ok: bool) -> None:
    r = apdu.Response.from_bytes(bytes.fromhex(raw))
    assert (r.tries_left, r.blocked, r.ok) == (tries, blocked, ok)


def test_response_repr_hides_data() -> None:
    r = apdu.Response.from_bytes(b"123456789018\x90\x00")
    assert "1234" not in repr(r)
    assert r.data == b"123456789018"
    assert r.to_bytes() == b"123456789018\x90\x00"
    with pytest.raises(ValueError, match="too short"):
        apdu.Response.from_bytes(b"\x90")


@pytest.mark.parametrize(
    ("raw", "data", "le"),
    [
        ("00200080", b"", None),  # case 1
        ("00B0000004", b"", 4),  # case 2
        ("00B0000000", b"", 256),  # case 2, Le 00
        ("00A4020C02000A", b"\x00\x0a", None),  # case 3
        ("00A4020C02000A00", b"\x00\x0a", 256),  # case 4
    ],
)
def test_command_parse(raw: str, data: bytes, le: int | None) -> None:
    c = apdu.Command.parse(bytes.fromhex(raw))
    assert (c.data, c.le) == (data, le)


@pytest.mark.parametrize("raw", ["00B000", "00A4020C05000A", "00A4020C0200"])
def test_command_parse_bad_lengths(raw: str) -> None:
    with pytest.raises(ValueError, match=r"Lc|shorter"):
        apdu.Command.parse(bytes.fromhex(raw))
