"""Pure rules of the supervisor's reports: periods, fiscal years, age bands, the expiry wave's
months and counter hours, and the layout of J-LIS's posted-notices list (R-NOT-4).

No Django, no database, no clock: every date is a parameter.

The fiscal year (会計年度) runs from 1 April to 31 March (Local Autonomy Act art. 208) and is
named by the year it starts in (``apps.core.wareki.fiscal_year_name``: FY2019 is 令和元年度).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from apps.cards.rules import add_months
from apps.core.wareki import fiscal_year_name
from apps.fees.rules import FISCAL_YEAR_FIRST_MONTH, fiscal_year_of
from apps.notices.rules import latest_expiry_due_for_notice

# --- periods -----------------------------------------------------------------------------------

# A report reads at most this many days: a longer span is a typing slip, and the chart
# would have more bars than a screen holds.
MAX_PERIOD_DAYS: Final = 3 * 366


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("開始日は終了日より前にしてください。")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)


def fiscal_year_period(fiscal_year: int) -> Period:
    """FY ``fiscal_year``: 1 April of that year to 31 March of the next."""
    return Period(
        start=date(fiscal_year, FISCAL_YEAR_FIRST_MONTH, 1),
        end=date(fiscal_year + 1, FISCAL_YEAR_FIRST_MONTH, 1) - timedelta(days=1),
    )


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period(start=first, end=add_months(first, 1) - timedelta(days=1))


@dataclass(frozen=True)
class Preset:
    label: str
    period: Period


def presets(today: date) -> list[Preset]:
    """The periods a supervisor asks for most: today, this month, this and last fiscal year."""
    fiscal_year = fiscal_year_of(today)
    return [
        Preset("本日", Period(today, today)),
        Preset("今月", Period(today.replace(day=1), today)),
        Preset(f"今年度（{fiscal_year_name(fiscal_year)}）", fiscal_year_period(fiscal_year)),
        Preset(
            f"前年度（{fiscal_year_name(fiscal_year - 1)}）", fiscal_year_period(fiscal_year - 1)
        ),
    ]


def default_period(today: date) -> Period:
    """This month so far: what a supervisor opens a report for."""
    return Period(today.replace(day=1), today)


# --- card stock (R-ISS-1) ----------------------------------------------------------------------

# (label, months at least, months less than) of the time since a card arrived. Calendar months,
# so that "3 months" is the same span the pickup letters and the city's policy speak of.
STOCK_BANDS: Final[tuple[tuple[str, int, int | None], ...]] = (
    ("1か月未満", 0, 1),
    ("1〜3か月", 1, 3),
    ("3〜6か月", 3, 6),
    ("6か月以上", 6, None),
)


def stock_band_bounds(*, index: int, today: date) -> tuple[date | None, date]:
    """The arrival dates of band ``index`` as (earliest exclusive or None, latest inclusive).

    A card arrived on ``today - m months`` has waited exactly m months and belongs to the band
    that starts at m: band [m, n) holds the arrivals after ``today - n months`` up to and
    including ``today - m months``.
    """
    _, at_least, less_than = STOCK_BANDS[index]
    latest = add_months(today, -at_least)
    earliest = None if less_than is None else add_months(today, -less_than)
    return earliest, latest


def stock_band_of(*, arrived_on: date, today: date) -> int:
    for index in range(len(STOCK_BANDS)):
        earliest, latest = stock_band_bounds(index=index, today=today)
        if arrived_on <= latest and (earliest is None or arrived_on > earliest):
            return index
    return 0  # arrived "after today": a date typed ahead; it has waited less than a month


# --- handling time -----------------------------------------------------------------------------

# Days from receipt to handover: the bars of the distribution.
HANDLING_BUCKETS: Final[tuple[tuple[str, int, int | None], ...]] = (
    ("7日以内", 0, 8),
    ("8〜14日", 8, 15),
    ("15〜30日", 15, 31),
    ("31〜60日", 31, 61),
    ("61日以上", 61, None),
)


class DayCounts:
    """A distribution of whole days given as ``{days: how many}`` (a few hundred counts that
    the database grouped, instead of a million rows): percentiles as PostgreSQL's
    ``percentile_cont`` computes them, the mean, the longest and the bands."""

    def __init__(self, counts: dict[int, int]) -> None:
        self._counts = sorted((days, n) for days, n in counts.items() if n > 0)
        self.total = sum(n for _, n in self._counts)

    def _nth(self, index: int) -> int:
        """The ``index``-th (0-based) value of the sorted list the counts stand for."""
        seen = 0
        for days, n in self._counts:
            seen += n
            if index < seen:
                return days
        raise IndexError(index)

    def percentile(self, fraction: float) -> float | None:
        """Linear interpolation between the two nearest ranks (``percentile_cont``)."""
        if not self.total:
            return None
        position = fraction * (self.total - 1)
        lower = int(position)
        low = self._nth(lower)
        high = self._nth(min(lower + 1, self.total - 1))
        return round(low + (high - low) * (position - lower), 1)

    @property
    def mean(self) -> float | None:
        if not self.total:
            return None
        return round(sum(days * n for days, n in self._counts) / self.total, 1)

    @property
    def longest(self) -> int | None:
        return self._counts[-1][0] if self._counts else None

    def buckets(self, bands: tuple[tuple[str, int, int | None], ...]) -> list[int]:
        return [
            sum(n for days, n in self._counts if days >= low and (high is None or days < high))
            for _, low, high in bands
        ]


# A gap between two steps of one clerk longer than this is a break, not a procedure: it is
# left out of the measured counter time.
COUNTER_GAP_MAX_MINUTES: Final = 60
# The counter time is measured over this many days before today.
COUNTER_MEASURE_DAYS: Final = 90


# --- the expiry wave ---------------------------------------------------------------------------

WAVE_MONTHS: Final = 24


def wave_months(today: date, months: int = WAVE_MONTHS) -> list[date]:
    """The first days of this month and the next ``months - 1``."""
    first = today.replace(day=1)
    return [add_months(first, n) for n in range(months)]


def counter_hours(*, procedures: int, minutes_per_procedure: float | None) -> float | None:
    """Hours of counter time for ``procedures`` at the measured minutes each; None unmeasured."""
    if minutes_per_procedure is None:
        return None
    return round(procedures * minutes_per_procedure / 60, 1)


# --- R-NOT-4: J-LIS's list of posted expiry notices --------------------------------------------

JLIS_HEADER: Final = "resident_code,kind,expires_on,posted_on"
JLIS_KINDS: Final = {"card": "カード", "certificate": "電子証明書"}
JLIS_MAX_ROWS: Final = 200_000
_CODE = re.compile(r"^[0-9]{11}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class PostedNotice:
    resident_code: str
    kind: str  # a key of JLIS_KINDS
    expires_on: date
    posted_on: date


@dataclass(frozen=True)
class ParsedList:
    rows: list[PostedNotice]
    problems: list[tuple[int | None, str]]  # (line, message); line None for the whole file


def _date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_posted_notices(content: bytes, *, month: date) -> ParsedList:
    """J-LIS's list of the expiry notices it posted in ``month`` (R-NOT-4), checked line by line.

    The layout (docs/reports.md): UTF-8 (a BOM is allowed), comma-separated, CRLF or LF, the
    header ``resident_code,kind,expires_on,posted_on``, then one line per letter:

    - ``resident_code``: the 11-digit resident-register code (住民票コード) of the holder;
      never the My Number, which the file must not carry;
    - ``kind``: ``card`` (the card's expiry notice) or ``certificate`` (a certificate's);
    - ``expires_on``: the expiry the letter is about, ``YYYY-MM-DD``;
    - ``posted_on``: the day J-LIS posted it, ``YYYY-MM-DD``, inside ``month``.

    Any problem refuses the whole file (the list is either what J-LIS posted or it is not);
    the same line twice counts once.
    """
    problems: list[tuple[int | None, str]] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ParsedList([], [(None, "ファイルがUTF-8ではありません。")])
    lines = list(csv.reader(io.StringIO(text)))
    if not lines or ",".join(cell.strip() for cell in lines[0]) != JLIS_HEADER:
        return ParsedList([], [(1, f"1行目は「{JLIS_HEADER}」にしてください。")])
    if len(lines) - 1 > JLIS_MAX_ROWS:
        return ParsedList([], [(None, f"{JLIS_MAX_ROWS:,}行を超えるファイルは取り込めません。")])
    month_end = add_months(month, 1)
    seen: set[tuple[str, str, date]] = set()
    rows: list[PostedNotice] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not cells or all(not cell.strip() for cell in cells):
            continue
        if len(cells) != 4:
            problems.append((number, "項目の数が4つではありません。"))
            continue
        code, kind, expires_text, posted_text = (cell.strip() for cell in cells)
        if not _CODE.match(code):
            problems.append((number, "住民票コードは11桁の数字です。"))
            continue
        if kind not in JLIS_KINDS:
            problems.append((number, "種類は card か certificate です。"))
            continue
        expires_on, posted_on = _date(expires_text), _date(posted_text)
        if expires_on is None or posted_on is None:
            problems.append((number, "日付は YYYY-MM-DD の形で書いてください。"))
            continue
        if not month <= posted_on < month_end:
            problems.append((number, "発送日が対象の月ではありません。"))
            continue
        key = (code, kind, expires_on)
        if key not in seen:
            seen.add(key)
            rows.append(PostedNotice(code, kind, expires_on, posted_on))
        if len(problems) >= 20:
            break
    return ParsedList(rows if not problems else [], problems)


def due_expiries(month: date) -> tuple[date, date]:
    """The expiries whose notice falls due in ``month`` (R-NOT-1, R-NOT-4), both included.

    A notice is due on the expiry minus three months (clamped): the first is the expiry on the
    1st three months on, the last the one :func:`latest_expiry_due_for_notice` gives for the
    month's last day (31 May → 28 or 29 February: February's list ends on 31 May).
    """
    first = month.replace(day=1)
    last = add_months(first, 1) - timedelta(days=1)
    return add_months(first, 3), latest_expiry_due_for_notice(last)
