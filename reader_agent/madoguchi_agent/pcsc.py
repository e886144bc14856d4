"""Thin PC/SC layer over pyscard's low-level `smartcard.scard` API.

The low-level API is used instead of pyscard's high-level classes because it hands back the
PC/SC result codes, and the agent must tell "pcscd is down", "no such reader" and "card pulled
out mid-read" apart to keep its loop running and tell the clerk what to do.

pyscard is imported lazily: the rest of the package (parsers, signing, outbox, simulator) must
work on a machine where pyscard could not be built.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import apdu
from .errors import CardRemoved, NoCard, NoReader, PcscError, PcscUnavailable

log = logging.getLogger(__name__)

# PC/SC result codes (same values on pcsc-lite, Windows WinSCard and macOS).
SCARD_S_SUCCESS = 0
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_CANCELLED = 0x80100002
SCARD_F_COMM_ERROR = 0x80100013
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

# pcsc-lite answers a call in progress with SCARD_F_COMM_ERROR when pcscd goes away under it
# (its socket closes), and NO_SERVICE only to the calls after. Both mean "pcscd is gone".
_SERVICE_DOWN = {
    SCARD_E_NO_SERVICE,
    SCARD_E_SERVICE_STOPPED,
    SCARD_E_INVALID_HANDLE,
    SCARD_F_COMM_ERROR,
}
_READER_GONE = {SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE, SCARD_E_NO_READERS_AVAILABLE}
_CARD_GONE = {
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
    SCARD_W_UNPOWERED_CARD,
    SCARD_W_UNRESPONSIVE_CARD,
    SCARD_E_NOT_TRANSACTED,
}


def _scard() -> Any:
    try:
        from smartcard import scard
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise PcscUnavailable(f"pyscard is not installed: {exc}") from exc
    return scard


def _u32(hresult: int) -> int:
    return hresult & 0xFFFFFFFF


def raise_for(hresult: int, what: str) -> None:
    """Turn a PC/SC result code into the agent's exception types."""
    code = _u32(hresult)
    if code == SCARD_S_SUCCESS:
        return
    detail = f"{what}: PC/SC error {code:#010x}"
    if code in _SERVICE_DOWN:
        raise PcscUnavailable(detail)
    if code in _READER_GONE:
        raise NoReader(detail)
    if code == SCARD_E_NO_SMARTCARD:
        raise NoCard(detail)
    if code in _CARD_GONE:
        raise CardRemoved(detail)
    raise PcscError(detail)


@dataclass(frozen=True, slots=True)
class ReaderState:
    """Opaque PC/SC state word for one reader, handed back to wait_for_change."""

    reader: str
    event_state: int
    atr: bytes

    @property
    def card_event(self) -> int:
        """Insert/remove counter (pcsc-lite and WinSCard keep it in the high 16 bits).

        Lets the watcher notice a card swapped between two polls, when `present` alone
        would not change.
        """
        return (self.event_state >> 16) & 0xFFFF

    @property
    def present(self) -> bool:
        scard = _scard()
        return bool(self.event_state & scard.SCARD_STATE_PRESENT) and not bool(
            self.event_state & scard.SCARD_STATE_MUTE
        )


class PcscContext:
    """One PC/SC context. Recreate it after PcscUnavailable (e.g. pcscd restarted)."""

    def __init__(self) -> None:
        scard = _scard()
        hresult, self._ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        raise_for(hresult, "establish context")

    def close(self) -> None:
        if self._ctx is not None:
            _scard().SCardReleaseContext(self._ctx)
            self._ctx = None

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_readers(self) -> list[str]:
        scard = _scard()
        hresult, readers = scard.SCardListReaders(self._ctx, [])
        if _u32(hresult) == SCARD_E_NO_READERS_AVAILABLE:
            return []
        raise_for(hresult, "list readers")
        return list(readers)

    def state(self, reader: str) -> ReaderState:
        """Current state without waiting."""
        scard = _scard()
        return self.wait_for_change(ReaderState(reader, scard.SCARD_STATE_UNAWARE, b""), 0)

    def wait_for_change(self, last: ReaderState, timeout_ms: int) -> ReaderState:
        """Block until the reader's state differs from `last`, or the timeout passes.

        On timeout the last state comes back unchanged, so callers can loop on it.
        """
        scard = _scard()
        hresult, states = scard.SCardGetStatusChange(
            self._ctx, timeout_ms, [(last.reader, last.event_state)]
        )
        if _u32(hresult) == SCARD_E_TIMEOUT:
            return last
        raise_for(hresult, "get status change")
        reader, event_state, atr = states[0]
        if event_state & scard.SCARD_STATE_UNKNOWN:
            raise NoReader(f"reader {reader!r} disappeared")
        # CHANGED is an edge marker; keep the level bits (and pcsc-lite's event counter).
        return ReaderState(reader, event_state & ~scard.SCARD_STATE_CHANGED, bytes(atr))

    def connect(self, reader: str) -> PcscConnection:
        scard = _scard()
        hresult, hcard, protocol = scard.SCardConnect(
            self._ctx,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        raise_for(hresult, f"connect to {reader!r}")
        return PcscConnection(hcard, protocol)


class PcscConnection:
    """A connected card; implements the `Transport` protocol used by CardSession."""

    def __init__(self, hcard: Any, protocol: int) -> None:
        scard = _scard()
        self._hcard = hcard
        self._pci = (
            scard.SCARD_PCI_T0 if protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        )

    def transmit(self, command: bytes) -> apdu.Response:
        # Debug logs show commands through apdu.redact() only: VERIFY data is a PIN (R-PIN-3).
        log.debug("> %s", apdu.redact(command))
        resp = self._transmit_raw(command)
        if resp.sw1 == 0x6C:
            # Wrong Le: the card tells the right one; retry once with it.
            resp = self._transmit_raw(command[:-1] + bytes((resp.sw2,)))
        data = resp.data
        while resp.sw1 == 0x61:
            # T=0 readers: more data waits behind GET RESPONSE.
            resp = self._transmit_raw(bytes((0x00, 0xC0, 0x00, 0x00, resp.sw2)))
            data += resp.data
        log.debug("< %04X (%d bytes)", resp.sw, len(data))
        return apdu.Response(data, resp.sw1, resp.sw2)

    def _transmit_raw(self, command: bytes) -> apdu.Response:
        scard = _scard()
        hresult, response = scard.SCardTransmit(self._hcard, self._pci, list(command))
        raise_for(hresult, "transmit")
        return apdu.Response.from_bytes(bytes(response))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive access for a multi-APDU read, so no other program changes the selected AP."""
        scard = _scard()
        raise_for(scard.SCardBeginTransaction(self._hcard), "begin transaction")
        try:
            yield
        finally:
            scard.SCardEndTransaction(self._hcard, scard.SCARD_LEAVE_CARD)

    def close(self, *, reset: bool = False) -> None:
        """Disconnect; `reset=True` after a PIN was verified.

        Resetting drops the card's verified state, so no later program on this PC can ride on
        the resident's PIN entry. Without a PIN it is left alone, to not disturb other programs.
        """
        if self._hcard is not None:
            scard = _scard()
            disposition = scard.SCARD_RESET_CARD if reset else scard.SCARD_LEAVE_CARD
            scard.SCardDisconnect(self._hcard, disposition)
            self._hcard = None


def pick_reader(readers: list[str], wanted: str | None) -> tuple[str, str | None]:
    """Choose a reader by exact name, else the first one.

    Returns (reader, warning). Readers are picked by name, never by index, because the index
    changes when a second reader is plugged in.
    """
    if not readers:
        raise NoReader("no PC/SC reader connected")
    if wanted is not None:
        if wanted in readers:
            return wanted, None
        raise NoReader(f"reader {wanted!r} not found (have: {', '.join(readers)})")
    return readers[0], (
        f"--reader が指定されていないため最初のリーダー {readers[0]!r} を使います"
        f" / no --reader given, using the first reader {readers[0]!r}"
    )
