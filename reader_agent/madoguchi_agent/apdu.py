"""ISO 7816-4 command builders and response helpers for the My Number card.

Only the handful of short APDUs the card needs (SELECT, READ BINARY, VERIFY). Facts come from
shared/CARD_PROTOCOL.md. Nothing here talks to a reader, so it is shared by the real PC/SC path
and the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

# Application identifiers (SELECT by DF name, P1=04).
AID_JPKI = bytes.fromhex("D392F000260100000001")
AID_TEXT = bytes.fromhex("D3921000310001010408")
AID_VISUAL = bytes.fromhex("D3921000310001010402")
AID_RESIDENT = bytes.fromhex("D3921000310001010401")

# Elementary files, by application.
EF_JPKI_AUTH_CERT = 0x000A
EF_JPKI_AUTH_CA_CERT = 0x000B
EF_JPKI_SIGN_CERT = 0x0001
EF_JPKI_SIGN_CA_CERT = 0x0002
EF_JPKI_AUTH_PIN = 0x0018
EF_JPKI_SIGN_PIN = 0x001B
EF_TEXT_PIN = 0x0011
EF_TEXT_MY_NUMBER = 0x0001
EF_TEXT_BASIC_FOUR = 0x0002
EF_TEXT_INTEGRITY = 0x0003
EF_RESIDENT_PIN = 0x001C

# Status words the agent acts on.
SW_OK = 0x9000
SW_END_OF_FILE_WARNING = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_METHOD_BLOCKED = 0x6983
SW_REFERENCE_DATA_BLOCKED = 0x6984
SW_COMMAND_NOT_ALLOWED = 0x6986
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_WRONG_P1P2_OFFSET = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00

MAX_SHORT_LE = 256
MAX_OFFSET = 0x7FFF  # P1 bit 8 set means "short EF id", so offsets are 15 bits.


@dataclass(frozen=True, slots=True)
class Response:
    """A response APDU: data followed by SW1 SW2."""

    data: bytes
    sw1: int
    sw2: int

    @classmethod
    def from_bytes(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ValueError(f"response APDU too short ({len(raw)} bytes)")
        return cls(data=bytes(raw[:-2]), sw1=raw[-2], sw2=raw[-1])

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    @property
    def tries_left(self) -> int | None:
        """Remaining PIN tries for `63Cx`, else None."""
        return tries_left(self.sw)

    @property
    def blocked(self) -> bool:
        return is_blocked(self.sw)

    def __repr__(self) -> str:
        # Data can be personal (My Number, name): keep it out of reprs that may reach a log.
        return f"Response(sw={self.sw:04X}, {len(self.data)} bytes)"


def tries_left(sw: int) -> int | None:
    """`63Cx` means x tries are left (and `63C0` that the last one was just spent)."""
    if sw & 0xFFF0 == 0x63C0:
        return sw & 0x0F
    return None


def is_blocked(sw: int) -> bool:
    """`6984` (reference data unusable) and `6983` (method blocked) both mean a locked PIN."""
    return sw in (SW_REFERENCE_DATA_BLOCKED, SW_AUTH_METHOD_BLOCKED)


def _fid_bytes(fid: int | bytes) -> bytes:
    if isinstance(fid, bytes):
        if len(fid) != 2:
            raise ValueError("a file identifier is two bytes")
        return fid
    if not 0 <= fid <= 0xFFFF:
        raise ValueError("a file identifier is two bytes")
    return fid.to_bytes(2, "big")


def select_aid(aid: bytes) -> bytes:
    """SELECT by DF name, P2=0C: no FCI wanted, so the answer is just a status word."""
    if not 1 <= len(aid) <= 16:
        raise ValueError("an AID is 1 to 16 bytes")
    return bytes((0x00, 0xA4, 0x04, 0x0C, len(aid))) + aid


def select_ef(fid: int | bytes) -> bytes:
    """SELECT an EF under the current DF by its two-byte identifier."""
    return bytes((0x00, 0xA4, 0x02, 0x0C, 0x02)) + _fid_bytes(fid)


def read_binary(offset: int, length: int) -> bytes:
    """READ BINARY from the current EF; `length` 256 is encoded as Le=00."""
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must fit in 15 bits, got {offset}")
    if not 1 <= length <= MAX_SHORT_LE:
        raise ValueError(f"Le must be 1..256, got {length}")
    return bytes((0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF))


def verify(pin: bytes | None = None) -> bytes:
    """VERIFY on the selected PIN EF.

    Without data it only asks for the retry counter (`63Cx`) and spends no try.
    """
    header = bytes((0x00, 0x20, 0x00, 0x80))
    if pin is None:
        return header
    if not 1 <= len(pin) <= 255:
        raise ValueError("PIN length out of range")
    return header + bytes((len(pin),)) + pin


def redact(command: bytes) -> str:
    """Hex of a command APDU that is safe to log: VERIFY data (a PIN) is never shown."""
    if len(command) >= 4 and command[1] == 0x20:
        return command[:4].hex(" ").upper() + (" <pin redacted>" if len(command) > 4 else "")
    return command.hex(" ").upper()


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed short command APDU (the simulator's side of the wire)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # None: no Le field; 256 when Le byte is 00.

    @classmethod
    def parse(cls, raw: bytes) -> Command:
        """Parse ISO 7816-4 short cases 1-4; raise ValueError on a length mismatch."""
        if len(raw) < 4:
            raise ValueError("command APDU shorter than its header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:  # case 1
            return cls(cla, ins, p1, p2, b"", None)
        if len(body) == 1:  # case 2
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise ValueError("extended-length APDUs are not supported")
        if len(body) == 1 + lc:  # case 3
            return cls(cla, ins, p1, p2, bytes(body[1:]), None)
        if len(body) == 2 + lc:  # case 4
            return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), body[-1] or 256)
        raise ValueError("Lc does not match the command length")
