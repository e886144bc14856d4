from datetime import date

import pytest

from apps.core.wareki import format_both, format_wareki


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 27), "令和8年11月27日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
    ],
)
def test_era_boundaries(day: date, expected: str) -> None:
    assert format_wareki(day) == expected


def test_both_forms_side_by_side() -> None:
    assert format_both(date(2026, 11, 27)) == "2026年11月27日 / 令和8年11月27日"
