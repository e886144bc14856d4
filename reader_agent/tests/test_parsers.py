"""Parsers on byte dumps shaped like real card data (R-MYN-1 check digit, text-AP layouts)."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi_agent import parsers
from madoguchi_agent.parsers import ParseError
from madoguchi_agent.simulator import make_certificates, persona_data

# Basic-four file as a card stores it: FF 20 + short length, the DF21 offset table, four TLVs,
# then FF filler up to the EF size. Assembled by hand (offsets counted from the file start).
BASIC_FOUR_DUMP = bytes.fromhex(
    "FF2044"  # outer TLV, 68 bytes
    "DF2108"
    "000E"
    "0020"
    "0038"
    "0043"  # offsets of DF22..DF25
    "DF220F"
    "E8A68BE69CACE38080E88AB1E5AD90"  # 見本　花子
    "DF2315"
    "E58C97E6B5B7E98193E8A68BE69CACE5B882EFBC91"  # 北海道見本市１
    "DF2408"
    "3139383530343031"  # 19850401
    "DF2501"
    "32"  # 2 = female (ISO 5218)
    "FFFFFFFFFFFFFFFFFFFFFFFF"
)

MY_NUMBER_DUMP = bytes.fromhex("FF100C313233343536373839303138FFFF")


# --- R-MYN-1 ---------------------------------------------------------------------------------


def test_r_myn_1_check_digit_example_valid() -> None:
    assert parsers.is_valid_my_number("123456789018")
    assert parsers.my_number_check_digit("12345678901") == 8


def test_r_myn_1_check_digit_example_invalid() -> None:
    assert not parsers.is_valid_my_number("123456789011")


@pytest.mark.parametrize(
    "value", ["12345678901", "1234567890188", "12345678901a", "１２３４５６７８９０１８"]
)
def test_r_myn_1_shape(value: str) -> None:
    assert not parsers.is_valid_my_number(value)


def test_r_myn_1_remainder_0_and_1_give_check_digit_0() -> None:
    # r <= 1 -> 0: find eleven-digit prefixes with r == 0 and r == 1 and check both.
    seen = set()
    for n in range(1000):
        prefix = f"{n:011d}"
        r = sum(int(d) * w for d, w in zip(prefix, parsers.MY_NUMBER_WEIGHTS, strict=False)) % 11
        if r in (0, 1):
            assert parsers.my_number_check_digit(prefix) == 0
            seen.add(r)
    assert seen == {0, 1}


# --- TLV headers ------------------------------------------------------------------------------


def test_long_form_tag_ff10_parsed_by_hand() -> None:
    h = parsers.read_tlv_header(bytes.fromhex("FF100C"), 0)
    assert (h.tag, h.length, h.value_offset) == (0xFF10, 12, 3)


@pytest.mark.parametrize(
    ("head", "length", "value_offset"),
    [("FF207F", 0x7F, 3), ("FF208180", 0x80, 4), ("FF208201A0", 0x1A0, 5), ("DF2108", 8, 3)],
)
def test_ber_length_forms(head: str, length: int, value_offset: int) -> None:
    h = parsers.read_tlv_header(bytes.fromhex(head))
    assert (h.length, h.value_offset) == (length, value_offset)
    assert parsers.tlv_total_length(bytes.fromhex(head)) == value_offset + length


@pytest.mark.parametrize("head", ["", "FF", "FF10", "FF2082", "FF208201", "FF2083000001", "FFFF"])
def test_bad_tlv_headers(head: str) -> None:
    with pytest.raises(ParseError):
        parsers.read_tlv_header(bytes.fromhex(head))


# --- certificate length ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "total"),
    [
        ("3082051C", 0x51C + 4),
        ("308203E8", 1000 + 4),
        ("3081F030", 0xF0 + 3),
        ("307F0201", 0x7F + 2),
    ],
)
def test_certificate_length_forms(head: str, total: int) -> None:
    assert parsers.certificate_length(bytes.fromhex(head)) == total


@pytest.mark.parametrize("head", ["FFFFFFFF", "31820100", "30830001", "3082", "30", "3081"])
def test_certificate_length_malformed(head: str) -> None:
    with pytest.raises(ParseError):
        parsers.certificate_length(bytes.fromhex(head))


def test_certificate_info_from_der() -> None:
    data = persona_data("ordinary", auth_serial=0x1234ABCD, today=dt.date(2025, 6, 1))
    der = make_certificates(data).auth
    assert parsers.certificate_length(der[:4]) == len(der)
    info = parsers.parse_certificate(der)
    assert info.serial == "1234abcd"
    assert info.not_before == dt.datetime(2024, 11, 13, tzinfo=dt.UTC)
    assert info.not_after.date() == dt.date(2029, 5, 31)
    assert info.not_after.tzinfo is not None
    assert "O=JPKI FICTIONAL" in info.issuer
    js = info.to_json()
    assert js["serial"] == "1234abcd"
    assert js["not_after"].endswith("Z")


def test_certificate_not_der() -> None:
    with pytest.raises(ParseError):
        parsers.parse_certificate(b"\x30\x03\x02\x01\x01")


def test_serial_hex_spelling() -> None:
    assert parsers.serial_hex(0x00AB) == "ab"
    assert parsers.serial_hex(0x0A0001) == "a0001"


# --- My Number file --------------------------------------------------------------------------


def test_my_number_dump() -> None:
    assert parsers.parse_my_number(MY_NUMBER_DUMP) == "123456789018"


def test_my_number_without_filler_and_with_zero_filler() -> None:
    assert parsers.parse_my_number(MY_NUMBER_DUMP[:15]) == "123456789018"
    assert parsers.parse_my_number(MY_NUMBER_DUMP[:15] + b"\x00\x00") == "123456789018"


@pytest.mark.parametrize(
    "dump",
    [
        "FF110C313233343536373839303138FFFF",  # wrong tag
        "FF100B3132333435363738393031FFFF",  # 11 digits
        "FF100C3132333435363738393031",  # cut off
        "FF100C31323334353637383930313AFFFF",  # not a digit
        "FF100C313233343536373839303131FFFF",  # check digit fails (R-MYN-1)
        "FF100C3132333435363738393031384142",  # junk after the value
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",  # empty EF
    ],
)
def test_my_number_malformed(dump: str) -> None:
    with pytest.raises(ParseError):
        parsers.parse_my_number(bytes.fromhex(dump))


def test_parse_error_does_not_echo_the_number() -> None:
    # R-MYN-2: error messages can reach logs; they must not carry the digits.
    with pytest.raises(ParseError) as info:
        parsers.parse_my_number(bytes.fromhex("FF100C313233343536373839303131FFFF"))
    assert "123456789011" not in str(info.value)


# --- basic four items ------------------------------------------------------------------------


def test_basic_four_dump_short_length() -> None:
    b = parsers.parse_basic_four(BASIC_FOUR_DUMP)
    assert b.name == "見本　花子"
    assert (b.family_name, b.given_name) == ("見本", "花子")
    assert b.address == "北海道見本市１"
    assert b.birth_date == "1985-04-01"
    assert b.sex == "2"
    assert "花子" not in repr(b)


def test_basic_four_encoder_matches_hand_dump() -> None:
    built = parsers.encode_basic_four(
        name="見本　花子", address="北海道見本市１", birth_date="1985-04-01", sex="2"
    )
    assert built == BASIC_FOUR_DUMP[: len(built)]


def _basic_four_with_header(header_len_form: str, address: str) -> bytes:
    """Assemble a basic-four file whose outer length uses the given BER form."""
    items = [
        parsers.encode_tlv(0xDF22, "見本　太郎".encode()),
        parsers.encode_tlv(0xDF23, address.encode()),
        parsers.encode_tlv(0xDF24, b"19701010"),
        parsers.encode_tlv(0xDF25, b"1"),
    ]
    inner_len = 11 + sum(len(i) for i in items)
    if header_len_form == "81":
        assert inner_len <= 0xFF
        header = b"\xff\x20\x81" + bytes([inner_len])
    else:
        header = b"\xff\x20\x82" + inner_len.to_bytes(2, "big")
    pos = len(header) + 11
    offsets = b""
    for item in items:
        offsets += pos.to_bytes(2, "big")
        pos += len(item)
    return header + b"\xdf\x21\x08" + offsets + b"".join(items) + b"\xff" * 32


@pytest.mark.parametrize(
    ("form", "address"),
    [
        ("81", "北海道見本市見本町" + "１２３" * 10),  # 57 chars -> 171 bytes: 81 form
        ("82", "北海道見本市見本町" + "１２３４５６７８９０" * 10),  # > 255 bytes: 82 form
        ("82", "北海道見本市"),  # non-minimal 82 form for a short file: still parsed
    ],
)
def test_basic_four_long_length_forms(form: str, address: str) -> None:
    dump = _basic_four_with_header(form, address)
    assert dump[2] == int(form, 16)
    b = parsers.parse_basic_four(dump)
    assert b.address == address
    assert (b.name, b.birth_date, b.sex) == ("見本　太郎", "1970-10-10", "1")


def test_basic_four_roundtrip_long_address() -> None:
    address = "北海道見本市" + "見本町１丁目２番３号" * 20
    built = parsers.encode_basic_four(
        name="見本　花子", address=address, birth_date="19991231", sex="9", file_size=1024
    )
    assert built[2] == 0x82
    assert parsers.parse_basic_four(built).address == address


def _patch(dump: bytes, offset: int, new: bytes) -> bytes:
    return dump[:offset] + new + dump[offset + len(new) :]


@pytest.mark.parametrize(
    ("desc", "dump"),
    [
        ("wrong outer tag", _patch(BASIC_FOUR_DUMP, 0, b"\xff\x21")),
        ("outer length past end", BASIC_FOUR_DUMP[:40]),
        ("offset table missing", _patch(BASIC_FOUR_DUMP, 3, b"\xdf\x29")),
        ("offset table not 8 bytes", _patch(BASIC_FOUR_DUMP, 5, b"\x06")),
        ("offset outside data", _patch(BASIC_FOUR_DUMP, 6, b"\x01\x00")),
        ("offset to the wrong TLV", _patch(BASIC_FOUR_DUMP, 6, b"\x00\x20")),
        ("name not UTF-8", _patch(BASIC_FOUR_DUMP, 17, b"\xff\xfe")),
        ("birth date not digits", _patch(BASIC_FOUR_DUMP, 59, b"19x5")),
        ("sex not ISO 5218", _patch(BASIC_FOUR_DUMP, 70, b"3")),
        ("junk after the TLV", _patch(BASIC_FOUR_DUMP, 72, b"\x41")),
        ("field runs past outer end", _patch(BASIC_FOUR_DUMP, 69, b"\x05")),
        ("empty EF", b"\xff" * 64),
    ],
)
def test_basic_four_malformed(desc: str, dump: bytes) -> None:
    with pytest.raises(ParseError):
        parsers.parse_basic_four(dump)


def test_birth_date_shape_only() -> None:
    # Partly unknown dates exist in resident records: the shape is checked, not the calendar.
    assert parsers.parse_birth_date(b"19500000") == "1950-00-00"
    with pytest.raises(ParseError):
        parsers.parse_birth_date(b"1950-1-1")
