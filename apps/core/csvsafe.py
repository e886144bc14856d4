"""CSV cells that a spreadsheet will not run (formula injection), for every export."""

from __future__ import annotations

from typing import Final

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection);
# the full-width forms are included because a Japanese Excel turns them into formulas too.
_FORMULA_STARTS: Final = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def csv_safe(value: str) -> str:
    """``value`` made inert for spreadsheets: a leading formula character gets a ``'``."""
    if value and value[0] in _FORMULA_STARTS:
        return "'" + value
    return value
