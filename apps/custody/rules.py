"""Pure rules of card custody and the handover interlock (no database, no clock).

Rule ids refer to ``docs/rules.md`` (R-HND, R-STK).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from apps.cards.rules import add_months


def normalize_serial(serial: str) -> str:
    """One spelling of an AUTH certificate serial: lower-case hex, no colons, no leading zeros.

    R-HND-1 / R-HND-2: the agent sends the integer in hex without padding; a tool may print
    the DER bytes (a leading ``00``) or colons. Two reads of one chip must compare equal.
    """
    return serial.strip().lower().replace(":", "").lstrip("0") or ("0" if serial.strip() else "")


def is_hex_serial(serial: str) -> bool:
    return bool(serial) and all(char in "0123456789abcdef" for char in serial)


def read_is_fresh(*, read_at: datetime, now: datetime, fresh_seconds: int) -> bool:
    """R-HND-2: a read counts for the handover only within the freshness window (policy: 5
    minutes). A read stamped in the future (a device clock ahead) is not fresher than now."""
    return now - timedelta(seconds=fresh_seconds) <= read_at <= now + timedelta(seconds=5)


class Verdict(enum.StrEnum):
    """What the interlock shows for the card at this counter (R-HND-2)."""

    WAITING = "waiting"  # no fresh read at this counter yet
    MATCH = "match"  # green: the bound card is in the clerk's hand
    MISMATCH = "mismatch"  # red: another card; blocked and logged
    NOT_SET_UP = "not_set_up"  # R-HND-1: nothing bound, nothing can be handed over


def verdict_for(*, bound_serial: str, read_serial: str) -> Verdict:
    """R-HND-1, R-HND-2: the read's serial against the serial bound at setup."""
    if not bound_serial:
        return Verdict.NOT_SET_UP
    if normalize_serial(read_serial) == bound_serial and read_serial:
        return Verdict.MATCH
    return Verdict.MISMATCH


# --- R-HND-4: the same name ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    search_kana: str
    birth_date: date
    household_code: str


def shares_name(holder: Person, other: Person) -> bool:
    """R-HND-4: another resident with the same kana name and either the same birth date or
    the same household."""
    if holder.search_kana != other.search_kana:
        return False
    same_household = bool(holder.household_code) and holder.household_code == other.household_code
    return same_household or holder.birth_date == other.birth_date


# --- R-STK-3: uncollected cards ------------------------------------------------------------


class AgeBand(enum.StrEnum):
    """Ages on the stock list (the issue's bands): < 1 month, 1–3, 3–6, > 6."""

    UNDER_1 = "under_1"
    FROM_1_TO_3 = "1_3"
    FROM_3_TO_6 = "3_6"
    OVER_6 = "over_6"

    @property
    def label(self) -> str:
        return AGE_BAND_LABELS[self]


AGE_BAND_LABELS: Final[dict[AgeBand, str]] = {
    AgeBand.UNDER_1: "1か月未満",
    AgeBand.FROM_1_TO_3: "1～3か月",
    AgeBand.FROM_3_TO_6: "3～6か月",
    AgeBand.OVER_6: "6か月超",
}


def age_band(*, arrived_on: date, today: date) -> AgeBand:
    """The band of a card that arrived on ``arrived_on``; whole calendar months, so a card
    that arrived on 31 January is one month old on 28 February."""
    if today < add_months(arrived_on, 1):
        return AgeBand.UNDER_1
    if today < add_months(arrived_on, 3):
        return AgeBand.FROM_1_TO_3
    if today <= add_months(arrived_on, 6):
        return AgeBand.FROM_3_TO_6
    return AgeBand.OVER_6


def retention_ends_on(*, arrived_on: date, retention_months: int) -> date:
    """R-STK-3: the last day a card is kept (policy: 6 months after arrival)."""
    return add_months(arrived_on, retention_months)


def may_destroy(*, arrived_on: date, today: date, retention_months: int) -> bool:
    """R-STK-3: only after the retention period."""
    return today > retention_ends_on(arrived_on=arrived_on, retention_months=retention_months)


def lot_number(*, office_code: str, arrived_on: date, sequence: int) -> str:
    """The printed lot number: office, arrival day, and the day's sequence (``A-20261201-1``)."""
    return f"{office_code}-{arrived_on:%Y%m%d}-{sequence}"
