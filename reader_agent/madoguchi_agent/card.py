"""Reading a My Number card: AUTH certificate, PIN retry counters, text input-assist AP.

CardSession speaks APDUs through any `Transport` (a PC/SC connection, or the simulator in
process), so the logic is tested without pcscd and then again through the real stack.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from . import apdu, parsers
from .errors import (
    CardDataError,
    CardError,
    FileNotFoundOnCard,
    InvalidPinFormat,
    PinBlocked,
    WrongPin,
)

log = logging.getLogger(__name__)

# Order matters for the wire: grouped by application so each AP is selected once.
PIN_KEYS = ("auth", "signing", "text", "resident")

# R-PIN: how many wrong tries lock each PIN.
PIN_LIMITS = {"auth": 3, "signing": 5, "text": 3, "resident": 3}

_PIN_LOCATION = {
    "auth": (apdu.AID_JPKI, apdu.EF_JPKI_AUTH_PIN),
    "signing": (apdu.AID_JPKI, apdu.EF_JPKI_SIGN_PIN),
    "text": (apdu.AID_TEXT, apdu.EF_TEXT_PIN),
    "resident": (apdu.AID_RESIDENT, apdu.EF_RESIDENT_PIN),
}

# Enough for a two-byte tag and an `82 xx xx` length: the header of any text-AP file.
_TLV_HEAD = 5


class Transport(Protocol):
    def transmit(self, command: bytes) -> apdu.Response: ...


@dataclass(frozen=True, slots=True)
class PinState:
    """Retry counter of one PIN. `tries` is None when the card has no such PIN."""

    tries: int | None
    blocked: bool


@dataclass(frozen=True, slots=True)
class PinStatus:
    auth: PinState
    signing: PinState
    text: PinState
    resident: PinState

    def pin_tries(self) -> dict[str, int | None]:
        return {k: getattr(self, k).tries for k in PIN_KEYS}

    def pin_blocked(self) -> dict[str, bool]:
        return {k: getattr(self, k).blocked for k in PIN_KEYS}


@dataclass(frozen=True, slots=True)
class TextApData:
    """Personal data from the text AP. Sent directly, never written to disk (R-MYN-2)."""

    my_number: str
    basic: parsers.BasicFour

    def to_json(self) -> dict[str, str]:
        return {
            "my_number": self.my_number,
            "name": self.basic.name,
            "address": self.basic.address,
            "birth_date": self.basic.birth_date,
            "sex": self.basic.sex,
        }

    def __repr__(self) -> str:
        return "TextApData(<personal data>)"


@dataclass(frozen=True, slots=True)
class CardRead:
    auth_certificate: parsers.CertificateInfo | None
    pins: PinStatus


def validate_four_digit_pin(pin: str) -> bytes:
    """R-PIN: AUTH, input-assist and resident PINs are 4 digits.

    Checked before anything is sent so that a typo never costs the resident a try.
    """
    if len(pin) != 4 or not pin.isascii() or not pin.isdigit():
        raise InvalidPinFormat("PIN must be 4 ASCII digits")
    return pin.encode("ascii")


class CardSession:
    """A conversation with one inserted card. Not thread-safe; one per connection."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._current_ap: bytes | None = None
        # Set once a PIN was verified, so the caller resets the card when done.
        self.pin_verified = False

    # --- primitives ----------------------------------------------------------------------

    def _send(self, command: bytes) -> apdu.Response:
        return self._t.transmit(command)

    def _transaction(self) -> AbstractContextManager[Any]:
        tx = getattr(self._t, "transaction", None)
        return tx() if callable(tx) else nullcontext()

    def select_ap(self, aid: bytes) -> None:
        if self._current_ap == aid:
            return
        resp = self._send(apdu.select_aid(aid))
        self._current_ap = None
        if resp.sw == apdu.SW_FILE_NOT_FOUND:
            raise FileNotFoundOnCard(f"application {aid.hex().upper()} not on card", resp.sw)
        if not resp.ok:
            raise CardError(f"SELECT AP {aid.hex().upper()} -> {resp.sw:04X}", resp.sw)
        self._current_ap = aid

    def select_ef(self, fid: int) -> None:
        resp = self._send(apdu.select_ef(fid))
        if resp.sw == apdu.SW_FILE_NOT_FOUND:
            raise FileNotFoundOnCard(f"EF {fid:04X} not found", resp.sw)
        if not resp.ok:
            raise CardError(f"SELECT EF {fid:04X} -> {resp.sw:04X}", resp.sw)

    def read_binary(self, offset: int, length: int) -> bytes:
        resp = self._send(apdu.read_binary(offset, length))
        if resp.sw == apdu.SW_WRONG_P1P2_OFFSET:
            raise CardDataError(f"READ BINARY past the end of the file (offset {offset})", resp.sw)
        if resp.sw == apdu.SW_SECURITY_NOT_SATISFIED:
            raise CardError("READ BINARY needs a verified PIN", resp.sw)
        # 6282 = "end of file reached before Le bytes": the data is still good.
        if resp.sw not in (apdu.SW_OK, apdu.SW_END_OF_FILE_WARNING) or not resp.data:
            raise CardError(f"READ BINARY -> {resp.sw:04X}", resp.sw)
        return resp.data

    def read_exact(self, total: int, prefix: bytes = b"") -> bytes:
        """Read the current EF up to `total` bytes, in chunks of at most 256."""
        if total - 1 > apdu.MAX_OFFSET:
            raise CardDataError(f"file length {total} exceeds what READ BINARY can address")
        buf = bytearray(prefix)
        while len(buf) < total:
            chunk = self.read_binary(len(buf), min(apdu.MAX_SHORT_LE, total - len(buf)))
            buf += chunk
        return bytes(buf[:total])

    def _read_tlv_file(self, what: str) -> bytes:
        head = self.read_binary(0, _TLV_HEAD)
        try:
            total = parsers.tlv_total_length(head)
        except parsers.ParseError as exc:
            raise CardDataError(f"{what}: {exc}") from None
        if total <= len(head):
            return head[:total]
        return self.read_exact(total, head)

    # --- AUTH certificate ----------------------------------------------------------------

    def read_auth_certificate_der(self) -> bytes | None:
        """DER of the AUTH certificate (JPKI EF 000A, no PIN); None if the card has none.

        A card without AUTH certificate (R-CRT-2: under 15 without the representative's request)
        has an empty EF (FF filler) or none at all.
        """
        self.select_ap(apdu.AID_JPKI)
        try:
            self.select_ef(apdu.EF_JPKI_AUTH_CERT)
        except FileNotFoundOnCard:
            return None
        head = self.read_binary(0, 4)
        if head[:2] == b"\xff\xff":
            return None
        try:
            total = parsers.certificate_length(head)
        except parsers.ParseError as exc:
            raise CardDataError(f"AUTH certificate: {exc}") from None
        return self.read_exact(total, head[:total])

    def read_auth_certificate(self) -> parsers.CertificateInfo | None:
        der = self.read_auth_certificate_der()
        if der is None:
            return None
        try:
            return parsers.parse_certificate(der)
        except parsers.ParseError as exc:
            raise CardDataError(f"AUTH certificate: {exc}") from None

    # --- PIN counters --------------------------------------------------------------------

    def pin_state(self, key: str) -> PinState:
        """Retry counter of one PIN by VERIFY without data: spends no try (R-PIN)."""
        aid, fid = _PIN_LOCATION[key]
        try:
            self.select_ap(aid)
            self.select_ef(fid)
        except FileNotFoundOnCard:
            return PinState(tries=None, blocked=False)
        resp = self._send(apdu.verify(None))
        if resp.tries_left is not None:
            return PinState(tries=resp.tries_left, blocked=resp.tries_left == 0)
        if resp.blocked:
            return PinState(tries=0, blocked=True)
        if resp.ok:
            # Already verified in this card session: a correct PIN restored the full count.
            return PinState(tries=PIN_LIMITS[key], blocked=False)
        raise CardError(f"VERIFY (status) on {key} -> {resp.sw:04X}", resp.sw)

    def read_pin_status(self) -> PinStatus:
        return PinStatus(**{k: self.pin_state(k) for k in PIN_KEYS})

    def read_card(self) -> CardRead:
        """What the agent reads on every insertion: AUTH certificate and the four counters."""
        with self._transaction():
            cert = self.read_auth_certificate()
            pins = self.read_pin_status()
        return CardRead(auth_certificate=cert, pins=pins)

    # --- text input-assist AP ------------------------------------------------------------

    def verify_pin(self, key: str, pin: str) -> None:
        """VERIFY a 4-digit PIN. Raises WrongPin(tries_left) or PinBlocked.

        The PIN is used for this one command and not kept (R-PIN-3).
        """
        if key == "signing":
            raise ValueError("the SIGNING password is not used by the agent")
        pin_bytes = validate_four_digit_pin(pin)
        aid, fid = _PIN_LOCATION[key]
        self.select_ap(aid)
        self.select_ef(fid)
        resp = self._send(apdu.verify(pin_bytes))
        del pin_bytes
        if resp.ok:
            self.pin_verified = True
            return
        if resp.tries_left is not None:
            raise WrongPin(resp.tries_left)
        if resp.blocked:
            raise PinBlocked(f"{key} PIN blocked")
        raise CardError(f"VERIFY on {key} -> {resp.sw:04X}", resp.sw)

    def read_text_ap(self, pin: str) -> TextApData:
        """Verify the input-assist PIN, then read My Number and the basic four items."""
        with self._transaction():
            self.verify_pin("text", pin)
            self.select_ef(apdu.EF_TEXT_MY_NUMBER)
            raw_number = self._read_tlv_file("My Number file")
            self.select_ef(apdu.EF_TEXT_BASIC_FOUR)
            raw_basic = self._read_tlv_file("basic-four file")
        try:
            return TextApData(
                my_number=parsers.parse_my_number(raw_number),
                basic=parsers.parse_basic_four(raw_basic),
            )
        except parsers.ParseError as exc:
            raise CardDataError(str(exc)) from None

    def has_signing_certificate(self) -> bool:
        """SELECT of JPKI EF 0001 needs no PIN; absent (6A82) means no SIGNING cert (R-CRT-2)."""
        self.select_ap(apdu.AID_JPKI)
        try:
            self.select_ef(apdu.EF_JPKI_SIGN_CERT)
        except FileNotFoundOnCard:
            return False
        return True


@contextmanager
def open_session(context: Any, reader: str) -> Iterator[CardSession]:
    """Connect to the card in `reader` (a pcsc.PcscContext) for one read."""
    conn = context.connect(reader)
    session = CardSession(conn)
    try:
        yield session
    finally:
        try:
            conn.close(reset=session.pin_verified)
        except Exception:
            log.debug("disconnect failed", exc_info=True)
