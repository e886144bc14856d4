"""What a report is: charts, tables under them, and notes; and its exports (CSV, XLSX).

Exports hold exactly the tables the page shows (never a My Number: no report selects one).
Every text cell is made inert for spreadsheets (``= + - @`` and their full-width forms get a
leading ``'``, apps.core.csvsafe); dates are written in both forms, like the screen.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

import xlsxwriter
from django.utils import timezone

from apps.core.csvsafe import csv_safe
from apps.core.wareki import format_both
from apps.reports.charts import Chart

Cell = str | int | float | date | datetime | None


@dataclass(frozen=True)
class Table:
    key: str  # the sheet's name and the export's ?table=
    caption: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    note: str = ""  # said instead of the rows when there are none, or why
    numeric: tuple[int, ...] = ()  # columns aligned right
    personal: bool = False  # names residents: showing it is written to the access log


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    charts: list[Chart]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        return self.tables[0]


def cell_text(value: Cell) -> str:
    """A cell as the screen and the CSV say it."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{format_both(local.date())} {local:%H:%M}"
    if isinstance(value, date):
        return format_both(value)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def _export_value(value: Cell) -> str | int | float:
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int | float):
        return value
    return csv_safe(cell_text(value))


def to_csv(table: Table) -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8), CRLF, numbers unformatted."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_safe(column) for column in table.columns])
    for row in table.rows:
        writer.writerow([_export_value(value) for value in row])
    return out.getvalue().encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    """One sheet per table; numbers stay numbers, text is written as text (never a formula)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})
    for table in report.tables:
        sheet = book.add_worksheet(table.key[:31])
        sheet.write_string(0, 0, csv_safe(table.caption), bold)
        for col, column in enumerate(table.columns):
            sheet.write_string(1, col, csv_safe(column), bold)
        for r, row in enumerate(table.rows, start=2):
            for col, value in enumerate(row):
                exported = _export_value(value)
                if isinstance(exported, str):
                    sheet.write_string(r, col, exported)
                else:
                    sheet.write_number(r, col, exported)
        sheet.set_column(0, max(len(table.columns) - 1, 0), 18)
    book.close()
    return out.getvalue()
