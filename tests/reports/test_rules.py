"""The reports' pure rules: fiscal years and their era names, stock bands at their edges, the
months of R-NOT-4, J-LIS's list layout, and what an export does to a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest

from apps.core.wareki import fiscal_year_name
from apps.reports.charts import Bar, Chart, render_svg
from apps.reports.rules import (
    Period,
    counter_hours,
    due_expiries,
    fiscal_year_period,
    parse_posted_notices,
    presets,
    stock_band_of,
    wave_months,
)
from apps.reports.tables import Report, Table, to_csv, to_xlsx


@pytest.mark.parametrize(
    ("fiscal_year", "name"),
    [
        (2019, "令和元年度"),  # Reiwa began on 1 May 2019, inside FY2019: cities say 令和元年度
        (2018, "平成30年度"),
        (1988, "昭和63年度"),  # Heisei began on 8 January 1989: FY1988 stays Showa
        (1989, "平成元年度"),
        (2026, "令和8年度"),
    ],
)
def test_a_fiscal_year_is_named_by_its_era(fiscal_year: int, name: str) -> None:
    assert fiscal_year_name(fiscal_year) == name


def test_a_fiscal_year_runs_april_to_march() -> None:
    assert fiscal_year_period(2025) == Period(date(2025, 4, 1), date(2026, 3, 31))
    assert fiscal_year_period(2023).days == 366  # 2024 is a leap year (29 Feb in FY2023)


def test_the_presets_name_this_and_last_fiscal_year() -> None:
    labels = [preset.label for preset in presets(date(2026, 3, 31))]
    assert labels == ["本日", "今月", "今年度（令和7年度）", "前年度（令和6年度）"]
    april = presets(date(2026, 4, 1))
    assert april[2].label == "今年度（令和8年度）"
    assert april[2].period == Period(date(2026, 4, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("arrived_on", "band"),
    [
        (date(2026, 11, 30), 0),
        (date(2026, 10, 31), 0),  # one day short of a month
        (date(2026, 10, 30), 1),  # exactly one month
        (date(2026, 8, 31), 1),
        (date(2026, 8, 30), 2),  # exactly three months
        (date(2026, 5, 31), 2),
        (date(2026, 5, 30), 3),  # exactly six months
        (date(2020, 1, 1), 3),
    ],
)
def test_stock_bands_at_their_edges(arrived_on: date, band: int) -> None:
    assert stock_band_of(arrived_on=arrived_on, today=date(2026, 11, 30)) == band


def test_r_not_4_the_expiries_due_in_a_month() -> None:
    # The notice is due three months before the expiry, clamped (R-NOT-1): February's list
    # covers the May expiries, 31 May included (due on 28 February).
    assert due_expiries(date(2026, 2, 1)) == (date(2026, 5, 1), date(2026, 5, 31))
    assert due_expiries(date(2024, 2, 1)) == (date(2024, 5, 1), date(2024, 5, 31))
    # November's: the February expiries (30 and 31 May do not exist there).
    assert due_expiries(date(2025, 11, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    # March's list: June 1–30 (a notice for 30 June is due 30 March).
    assert due_expiries(date(2026, 3, 1)) == (date(2026, 6, 1), date(2026, 6, 30))


def test_the_wave_covers_24_months_from_this_one() -> None:
    months = wave_months(date(2026, 11, 15))
    assert len(months) == 24
    assert months[0] == date(2026, 11, 1)
    assert months[-1] == date(2028, 10, 1)


def test_counter_hours() -> None:
    assert counter_hours(procedures=90, minutes_per_procedure=16) == 24.0
    assert counter_hours(procedures=90, minutes_per_procedure=None) is None


GOOD = (
    "\ufeffresident_code,kind,expires_on,posted_on\r\n"
    "00000000001,card,2026-05-10,2026-02-03\r\n"
    "00000000001,card,2026-05-10,2026-02-03\r\n"
    "00000000002,certificate,2026-05-20,2026-02-04\r\n"
    "\r\n"
).encode()


def test_r_not_4_the_posted_list_is_read_once_per_line() -> None:
    parsed = parse_posted_notices(GOOD, month=date(2026, 2, 1))
    assert parsed.problems == []
    assert [(row.resident_code, row.kind, row.expires_on) for row in parsed.rows] == [
        ("00000000001", "card", date(2026, 5, 10)),
        ("00000000002", "certificate", date(2026, 5, 20)),
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"code,kind\n", "1行目は"),
        (b"resident_code,kind,expires_on,posted_on\n123,card,2026-05-10,2026-02-03\n", "11桁"),
        (
            b"resident_code,kind,expires_on,posted_on\n00000000001,pin,2026-05-10,2026-02-03\n",
            "種類は",
        ),
        (
            b"resident_code,kind,expires_on,posted_on\n00000000001,card,2026/05/10,2026-02-03\n",
            "YYYY-MM-DD",
        ),
        (
            b"resident_code,kind,expires_on,posted_on\n00000000001,card,2026-05-10,2026-03-01\n",
            "対象の月",
        ),
        ("resident_code,kind,expires_on,posted_on\n".encode("utf-16"), "UTF-8"),
    ],
)
def test_r_not_4_a_bad_list_is_refused_whole(content: bytes, problem: str) -> None:
    parsed = parse_posted_notices(content, month=date(2026, 2, 1))
    assert parsed.rows == []
    assert any(problem in message for _, message in parsed.problems)


def _report() -> Report:
    table = Table(
        key="t",
        caption="表",
        columns=("理由", "件数", "日"),
        rows=[('=HYPERLINK("http://x")', 3, date(2026, 3, 31)), ("@SUM(A1)", -5, None)],
    )
    return Report(slug="x", title="x", charts=[], tables=[table])


def test_exports_escape_formulas_and_write_dates_in_both_forms() -> None:
    report = _report()
    rows = list(csv.reader(io.StringIO(to_csv(report.tables[0]).decode("utf-8-sig"))))
    assert rows[0] == ["理由", "件数", "日"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "3", "2026年3月31日 / 令和8年3月31日"]
    assert rows[2] == ["'@SUM(A1)", "-5", "—"]  # a number stays a number
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(report)))
    sheet = book["t"]
    assert sheet["A3"].value == '\'=HYPERLINK("http://x")'
    assert sheet["A3"].data_type == "s"  # text, not a formula
    assert sheet["B3"].value == 3
    assert sheet["B4"].value == -5


def test_a_chart_is_an_accessible_svg_with_readable_marks() -> None:
    svg = str(
        render_svg(Chart(title="件数<script>", unit="件", bars=[Bar("A&B", 3), Bar("C", 1.5)]))
    )
    assert svg.startswith('<svg class="chart" role="img"')
    assert "<title" in svg
    assert "件数&lt;script&gt;" in svg
    assert "<script>" not in svg
    assert 'data-label="A&amp;B" data-value="3"' in svg
    assert 'data-value="1.5"' in svg
    assert svg.count('class="mark"') == 2
