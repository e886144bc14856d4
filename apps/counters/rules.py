"""Pure rules of the card-read flow at the counter: no Django, no database, no clock.

What the reader agent sends is checked here before anything is written: the PIN retry counters
(R-PIN table, R-PIN-3), how a certificate serial is spelled, whether a read is fresh enough to
put on a clerk's screen, and which printed items differ from the register.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from apps.certificates.rules import PIN_MAX_TRIES, PinKind

# The four PINs in the order the agent reads them and the panel shows them (R-PIN table); the
# keys of a read's pin_tries / pin_blocked are their PinKind values.
PIN_ORDER: Final = (PinKind.AUTH, PinKind.SIGNING, PinKind.TEXT, PinKind.RESIDENT)
PIN_KEYS: Final = tuple(kind.value for kind in PIN_ORDER)

# The device-signature profile (reader_agent/README.md): a signature whose `created` is further
# than this from the server clock is refused.
MAX_SKEW_SECONDS: Final = 90


class ReadRejected(ValueError):
    """The read's content is not acceptable; the message is for the API's 400 answer and never
    contains the value that was sent (it may be personal data)."""


@dataclass(frozen=True, slots=True)
class PinReading:
    """One PIN's retry counter as the card reported it. `tries` None: the card has no such PIN
    (e.g. no SIGNING certificate on a child's card, R-CRT-2)."""

    kind: PinKind
    tries: int | None
    blocked: bool

    @property
    def max_tries(self) -> int:
        return PIN_MAX_TRIES[self.kind]

    @property
    def tries_left(self) -> int | None:
        """What the PinState should record: a blocked PIN has no tries left, whatever count
        came with it (VERIFY answers 6984 without a count once blocked)."""
        if self.blocked:
            return 0
        return self.tries


def pin_readings(
    tries: Mapping[str, object], blocked: Mapping[str, object]
) -> dict[PinKind, PinReading]:
    """Validate the four counters of a read (R-PIN table). The PIN itself is never part of a
    read (R-PIN-3); a counter above the PIN's limit or below zero is refused."""
    if set(tries) != set(PIN_KEYS) or set(blocked) != set(PIN_KEYS):
        raise ReadRejected(
            "pin_tries と pin_blocked には auth, signing, text, resident が必要です。"
        )
    readings: dict[PinKind, PinReading] = {}
    for kind in PIN_ORDER:
        key = kind.value
        count, is_blocked = tries[key], blocked[key]
        if not isinstance(is_blocked, bool):
            raise ReadRejected(f"pin_blocked.{key} は真偽値で指定してください。")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ReadRejected(f"pin_tries.{key} は整数か null で指定してください。")
        if count is not None and not 0 <= count <= PIN_MAX_TRIES[kind]:
            raise ReadRejected(
                f"pin_tries.{key} は0から{PIN_MAX_TRIES[kind]}の範囲で指定してください。"
            )
        readings[kind] = PinReading(kind=kind, tries=count, blocked=is_blocked)
    return readings


def serial_candidates(serial: str) -> list[str]:
    """Spellings of one certificate serial that may have been recorded at issuance.

    The agent sends the integer in lowercase hex without padding; a clerk may have copied it
    from a tool that prints whole DER bytes (a leading `0`, or `00` when the top bit is set).
    Matching these few exact strings keeps the lookup on the unique index.
    """
    bare = serial.lower().replace(":", "").lstrip("0") or "0"
    return [bare, "0" + bare, "00" + bare, "000" + bare]


def shown_on_panel(*, read_at: datetime, received_at: datetime, max_age_seconds: int) -> bool:
    """A read that waited in the agent's outbox (server away) is stored and updates the PIN
    state, but the resident it shows has long left the counter: it is not pushed to the
    clerk's screen."""
    return received_at - read_at <= timedelta(seconds=max_age_seconds)


def _comparable(text: str) -> str:
    # The chip stores full-width digits and a U+3000 between family and given name; the register
    # may hold half-width digits and ASCII spaces. NFKC plus no spaces compares what is written.
    return "".join(unicodedata.normalize("NFKC", text).split())


def basic_four_mismatches(*, card: dict[str, str], register: dict[str, str]) -> list[str]:
    """Names of the basic four items (name, address, birth_date, sex) that differ between the
    card's text AP and the resident register (R-CHG-1: the chip should carry the new values)."""
    return [
        item
        for item in ("name", "address", "birth_date", "sex")
        if _comparable(card.get(item, "")) != _comparable(register.get(item, ""))
    ]


# R-SUS-2 (policy, as R-HND-2 for the handover): the card read a lifting rests on is from the
# clerk's own counter and at most this old.
LIFT_READ_MAX_AGE_SECONDS = 5 * 60


def lift_read_problem(
    *,
    read_counter_id: object,
    clerk_counter_id: object,
    read_card_id: object,
    card_id: object,
    card_identified: bool,
    read_at: datetime,
    now: datetime,
) -> str | None:
    """Why a card read cannot support lifting this card's suspension, or None (R-SUS-2): it
    must come from the clerk's counter, be fresh, and have named this card by its AUTH
    certificate (not by a guess from the My Number)."""
    if clerk_counter_id is None or read_counter_id != clerk_counter_id:
        return "この窓口のリーダーで読み取ったカードではありません。"
    if (now - read_at).total_seconds() > LIFT_READ_MAX_AGE_SECONDS:
        return "カードの読取から5分を過ぎています。もう一度カードを読み取ってください。"
    if not card_identified or read_card_id != card_id:
        return "読み取ったカードが、一時停止を解除するカードと一致しません。"
    return None
