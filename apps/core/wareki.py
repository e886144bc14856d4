"""Japanese era (和暦) dates for the clerk's screens and letters.

Every date a clerk sees is shown in both forms (docs/architecture.md, conventions):
2026年11月27日 / 令和8年11月27日. The first year of an era is written 元年.
"""

from __future__ import annotations

from datetime import date

# (first day, era name), newest first. Days before Meiji 6 (the Gregorian calendar's adoption
# in Japan) do not occur among living residents and are shown in Western form only.
ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1873, 1, 1), "明治"),
)
_MEIJI_FIRST_YEAR = 1868


def era_of(day: date) -> tuple[str, int] | None:
    """The era and the year within it, or None before the Gregorian calendar came to Japan."""
    for starts_on, name in ERAS:
        if day >= starts_on:
            first_year = _MEIJI_FIRST_YEAR if name == "明治" else starts_on.year
            return name, day.year - first_year + 1
    return None


def format_wareki(day: date) -> str:
    era = era_of(day)
    if era is None:
        return format_western(day)
    name, year = era
    year_text = "元" if year == 1 else str(year)
    return f"{name}{year_text}年{day.month}月{day.day}日"


def format_western(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def format_both(day: date) -> str:
    return f"{format_western(day)} / {format_wareki(day)}"


def fiscal_year_name(fiscal_year: int) -> str:
    """A fiscal year (会計年度, 1 April to 31 March, named by the year it starts in) as cities
    name it on receipts and reports: 2026 → 令和8年度, 2019 → 令和元年度, 2018 → 平成30年度.

    It takes the era of 31 December of its starting year. That matters in a year whose era
    changed after 1 April: Reiwa began on 2019-05-01, a month into FY2019, and cities call
    FY2019 令和元年度, not 平成31年度 (the era of its first day). FY1988 stays 昭和63年度
    (Heisei began in January 1989, in the next calendar year).
    """
    era = era_of(date(fiscal_year, 12, 31))
    if era is None:
        return f"{fiscal_year}年度"
    name, year = era
    return f"{name}{'元' if year == 1 else year}年度"
