"""Pure parsers for what the My Number card returns.

Every length is read from the data itself; no offset is hard-coded, because field sizes differ
between cards (long addresses, foreign names) and a wrong guess would silently cut personal data.
Malformed input raises ParseError with a message that names the problem but never echoes the
bytes, since they may hold a My Number or a name (R-MYN-2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

TAG_MY_NUMBER = 0xFF10
TAG_BASIC_FOUR = 0xFF20
TAG_OFFSETS = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH_DATE = 0xDF24
TAG_SEX = 0xDF25

# ISO 5218: 0 not known, 1 male, 2 female, 9 not applicable.
ISO_5218_CODES = frozenset("0129")

FULLWIDTH_SPACE = "\u3000"


class ParseError(ValueError):
    """Card data did not have the expected shape."""


# --- My Number check digit (R-MYN-1) -------------------------------------------------------


def my_number_check_digit(first_eleven: str) -> int:
    """Check digit of a My Number from its first eleven digits (R-MYN-1).

    r = sum(d_i * w_i) mod 11 with weights 6,5,4,3,2,7,6,5,4,3,2; check = 0 if r <= 1 else 11 - r.
    """
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("need exactly eleven ASCII digits")
    r = sum(int(d) * w for d, w in zip(first_eleven, MY_NUMBER_WEIGHTS, strict=True)) % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(value: str) -> bool:
    """True for twelve ASCII digits whose last digit is the R-MYN-1 check digit."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    return my_number_check_digit(value[:11]) == int(value[11])


# --- BER-TLV headers, parsed by hand -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlvHeader:
    tag: int
    length: int
    value_offset: int  # absolute offset of the first value byte

    @property
    def end(self) -> int:
        return self.value_offset + self.length


def read_tlv_header(buf: bytes, pos: int = 0) -> TlvHeader:
    """Read a BER-TLV tag and length at `pos`.

    Hand-written because the card uses `FF 10`/`FF 20` (long-form tag number 16/32 in the private
    constructed class), which strict ASN.1/DER parsers reject. Length: one byte below 0x80, or
    `81 xx`, or `82 xx xx`.
    """
    if pos >= len(buf):
        raise ParseError(f"TLV expected at offset {pos}, but the data ends there")
    first = buf[pos]
    if first == 0xFF and pos + 1 < len(buf) and buf[pos + 1] == 0xFF:
        # FF FF is filler (erased EEPROM), not a tag.
        raise ParseError(f"filler bytes where a TLV was expected (offset {pos})")
    tag = first
    i = pos + 1
    if first & 0x1F == 0x1F:
        # Long-form tag: subsequent bytes carry 7 bits each while bit 8 is set.
        while True:
            if i >= len(buf):
                raise ParseError(f"tag at offset {pos} is cut off")
            b = buf[i]
            tag = (tag << 8) | b
            i += 1
            if not b & 0x80:
                break
            if i - pos > 4:
                raise ParseError(f"tag at offset {pos} is too long")
    if i >= len(buf):
        raise ParseError(f"length of TLV at offset {pos} is missing")
    lb = buf[i]
    i += 1
    if lb < 0x80:
        length = lb
    elif lb in (0x81, 0x82):
        n = lb - 0x80
        if i + n > len(buf):
            raise ParseError(f"length of TLV at offset {pos} is cut off")
        length = int.from_bytes(buf[i : i + n], "big")
        i += n
    else:
        raise ParseError(f"unsupported BER length byte {lb:#04x} at offset {i - 1}")
    return TlvHeader(tag=tag, length=length, value_offset=i)


def tlv_total_length(head: bytes) -> int:
    """Total bytes (header + value) of the TLV whose first bytes are `head`.

    Used to know how much of a text-AP EF to read after fetching only its first few bytes.
    """
    h = read_tlv_header(head, 0)
    return h.end


def _value(buf: bytes, h: TlvHeader, what: str) -> bytes:
    if h.end > len(buf):
        raise ParseError(f"{what}: length {h.length} runs past the end of the data")
    return bytes(buf[h.value_offset : h.end])


# --- certificates --------------------------------------------------------------------------


def certificate_length(header: bytes) -> int:
    """Total DER length of a certificate from its first bytes (at least 4 are expected).

    `30 82 LL LL` -> LLLL + 4, `30 81 LL` -> LL + 3, `30 LL` (LL < 0x80) -> LL + 2.
    """
    if len(header) < 2:
        raise ParseError("certificate header too short")
    if header[0] != 0x30:
        if header[0] == 0xFF:
            raise ParseError("certificate file is empty (filler bytes)")
        raise ParseError(f"certificate does not start with a SEQUENCE (got {header[0]:#04x})")
    lb = header[1]
    if lb < 0x80:
        return lb + 2
    if lb == 0x81:
        if len(header) < 3:
            raise ParseError("certificate header too short for the 81 length form")
        return header[2] + 3
    if lb == 0x82:
        if len(header) < 4:
            raise ParseError("certificate header too short for the 82 length form")
        return int.from_bytes(header[2:4], "big") + 4
    raise ParseError(f"unsupported certificate length form {lb:#04x}")


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What the server needs from the AUTH certificate (R-CRT-1): no personal data in it."""

    serial: str  # lowercase hex, no colons, no leading zeros (format(int, "x"))
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime  # aware, UTC
    issuer: str  # RFC 4514 string

    def to_json(self) -> dict[str, str]:
        return {
            "serial": self.serial,
            "not_before": self.not_before.isoformat().replace("+00:00", "Z"),
            "not_after": self.not_after.isoformat().replace("+00:00", "Z"),
            "issuer": self.issuer,
        }


def serial_hex(serial: int) -> str:
    """The one spelling of a serial the agent and the server compare: lowercase, no padding."""
    if serial < 0:
        # RFC 5280 forbids it, but old CAs produced some; keep them matchable rather than fail.
        return "-" + format(-serial, "x")
    return format(serial, "x")


def parse_certificate(der: bytes) -> CertificateInfo:
    """Serial, validity and issuer of a DER certificate."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ParseError(f"certificate is not valid DER: {exc}") from None
    return CertificateInfo(
        serial=serial_hex(cert.serial_number),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        issuer=cert.issuer.rfc4514_string(),
    )


# --- text input-assist AP ------------------------------------------------------------------


def _check_filler(buf: bytes, start: int, what: str) -> None:
    # Unused EEPROM after the TLV reads as FF; some cards pad with 00. Anything else means the
    # lengths we trusted were wrong, so stop rather than return a truncated value.
    rest = buf[start:]
    if any(b not in (0xFF, 0x00) for b in rest):
        raise ParseError(f"{what}: unexpected bytes after the data (offset {start})")


def parse_my_number(data: bytes) -> str:
    """My Number EF (text AP 0001): `FF 10 0C` + 12 ASCII digits + FF filler.

    Checks the R-MYN-1 check digit too: a failure means a misread, not a real number.
    """
    h = read_tlv_header(data, 0)
    if h.tag != TAG_MY_NUMBER:
        raise ParseError(f"My Number file: expected tag FF10, got {h.tag:X}")
    value = _value(data, h, "My Number file")
    _check_filler(data, h.end, "My Number file")
    if len(value) != 12:
        raise ParseError(f"My Number file: expected 12 digits, got {len(value)} bytes")
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise ParseError("My Number file: value is not ASCII") from None
    if not text.isdigit():
        raise ParseError("My Number file: value is not all digits")
    if not is_valid_my_number(text):
        raise ParseError("My Number file: check digit does not match (R-MYN-1)")
    return text


@dataclass(frozen=True, slots=True)
class BasicFour:
    """The four basic items printed on the card (基本4情報)."""

    name: str
    address: str
    birth_date: str  # ISO YYYY-MM-DD
    sex: str  # ISO 5218 digit

    @property
    def family_name(self) -> str:
        return self.name.split(FULLWIDTH_SPACE, 1)[0]

    @property
    def given_name(self) -> str:
        parts = self.name.split(FULLWIDTH_SPACE, 1)
        return parts[1] if len(parts) == 2 else ""

    def __repr__(self) -> str:
        return "BasicFour(<personal data>)"


def _utf8(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what} is not valid UTF-8") from None


def parse_birth_date(value: bytes) -> str:
    """`YYYYMMDD` ASCII -> `YYYY-MM-DD`.

    Only the shape is checked, not the calendar: resident records can hold partly unknown dates
    for some foreign residents, and refusing to read the card would not help the clerk.
    """
    if len(value) != 8 or not value.isdigit():
        raise ParseError("birth date is not eight ASCII digits")
    s = value.decode("ascii")
    return f"{s[0:4]}-{s[4:6]}-{s[6:8]}"


def parse_basic_four(data: bytes) -> BasicFour:
    """Basic-four EF (text AP 0002).

    `FF 20 <len>` wraps `DF 21 08` (four big-endian uint16 offsets from the file start) and the
    TLVs DF22 name, DF23 address, DF24 birth date, DF25 sex, each found at its offset.
    """
    outer = read_tlv_header(data, 0)
    if outer.tag != TAG_BASIC_FOUR:
        raise ParseError(f"basic-four file: expected tag FF20, got {outer.tag:X}")
    if outer.end > len(data):
        raise ParseError("basic-four file: outer length runs past the end of the data")
    _check_filler(data, outer.end, "basic-four file")
    inner = bytes(data[: outer.end])

    idx = read_tlv_header(inner, outer.value_offset)
    if idx.tag != TAG_OFFSETS:
        raise ParseError(f"basic-four file: expected offset table DF21, got {idx.tag:X}")
    table = _value(inner, idx, "basic-four offset table")
    if len(table) != 8:
        raise ParseError(f"basic-four offset table: expected 8 bytes, got {len(table)}")
    offsets = [int.from_bytes(table[i : i + 2], "big") for i in range(0, 8, 2)]

    fields: dict[int, bytes] = {}
    for expected, off in zip(
        (TAG_NAME, TAG_ADDRESS, TAG_BIRTH_DATE, TAG_SEX), offsets, strict=True
    ):
        if not outer.value_offset <= off < outer.end:
            raise ParseError(f"basic-four file: offset {off} of {expected:X} is outside the data")
        h = read_tlv_header(inner, off)
        if h.tag != expected:
            raise ParseError(
                f"basic-four file: at offset {off} expected {expected:X}, got {h.tag:X}"
            )
        fields[expected] = _value(inner, h, f"basic-four field {expected:X}")

    sex_raw = fields[TAG_SEX]
    if len(sex_raw) != 1 or chr(sex_raw[0]) not in ISO_5218_CODES:
        raise ParseError("sex is not one ISO 5218 digit")
    return BasicFour(
        name=_utf8(fields[TAG_NAME], "name"),
        address=_utf8(fields[TAG_ADDRESS], "address"),
        birth_date=parse_birth_date(fields[TAG_BIRTH_DATE]),
        sex=chr(sex_raw[0]),
    )


# --- encoders (used by the simulator and tests; the inverse of the parsers above) -----------


def encode_length(n: int) -> bytes:
    """Minimal BER length: short form, `81 xx` or `82 xx xx`."""
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return bytes((0x82,)) + n.to_bytes(2, "big")
    raise ValueError("length too large for this card")


def encode_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return tag_bytes + encode_length(len(value)) + value


def encode_my_number(my_number: str, file_size: int = 17) -> bytes:
    body = encode_tlv(TAG_MY_NUMBER, my_number.encode("ascii"))
    return body + b"\xff" * max(0, file_size - len(body))


def encode_basic_four(
    *, name: str, address: str, birth_date: str, sex: str, file_size: int | None = None
) -> bytes:
    """Build a basic-four file; `birth_date` is YYYY-MM-DD or YYYYMMDD."""
    items = [
        encode_tlv(TAG_NAME, name.encode("utf-8")),
        encode_tlv(TAG_ADDRESS, address.encode("utf-8")),
        encode_tlv(TAG_BIRTH_DATE, birth_date.replace("-", "").encode("ascii")),
        encode_tlv(TAG_SEX, sex.encode("ascii")),
    ]
    table_len = 2 + 1 + 8  # DF21 tag, short length, 4 offsets
    inner_len = table_len + sum(len(i) for i in items)
    header_len = 2 + len(encode_length(inner_len))
    offsets = []
    pos = header_len + table_len
    for item in items:
        offsets.append(pos)
        pos += len(item)
    table = encode_tlv(TAG_OFFSETS, b"".join(o.to_bytes(2, "big") for o in offsets))
    body = encode_tlv(TAG_BASIC_FOUR, table + b"".join(items))
    assert len(body) == pos  # noqa: S101 - internal consistency of the encoder
    if file_size is not None:
        body += b"\xff" * max(0, file_size - len(body))
    return body
