"""Tests of apps.notices.rules: R-NOT-1 (notice due date, renewal window).

Pure functions: no database, no Django.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.notices.rules import (
    add_months,
    latest_expiry_due_for_notice,
    notice_due_on,
    renewal_opens_on,
)


@pytest.mark.parametrize(
    ("expires", "due"),
    [
        (date(2024, 12, 31), date(2024, 9, 30)),
        (date(2024, 3, 15), date(2023, 12, 15)),  # across the year
        (date(2024, 5, 31), date(2024, 2, 29)),  # clamped to 29 February (leap year)
        (date(2025, 5, 31), date(2025, 2, 28)),  # clamped to 28 February
        (date(2024, 5, 30), date(2024, 2, 29)),
        (date(2024, 5, 29), date(2024, 2, 29)),
        (date(2024, 5, 28), date(2024, 2, 28)),
        (date(2100, 5, 31), date(2100, 2, 28)),  # 2100 is not a leap year
        (date(2024, 7, 31), date(2024, 4, 30)),  # 30-day month
        (date(2024, 2, 29), date(2023, 11, 29)),  # expiry on 29 February itself
        (date(2025, 2, 28), date(2024, 11, 28)),
        (date(2025, 3, 1), date(2024, 12, 1)),
    ],
)
def test_r_not_1_notice_due_three_calendar_months_before(expires: date, due: date) -> None:
    """R-NOT-1: expiry minus 3 calendar months, clamped to the end of a shorter month."""
    assert notice_due_on(expires) == due


@pytest.mark.parametrize(
    ("expires", "opens"),
    [
        (date(2024, 12, 31), date(2024, 10, 1)),  # DOMAIN.md example
        (date(2024, 3, 15), date(2023, 12, 16)),  # DOMAIN.md example
        (date(2024, 5, 31), date(2024, 3, 1)),  # day after 29 February
        (date(2025, 5, 31), date(2025, 3, 1)),  # day after 28 February
        (date(2024, 4, 1), date(2024, 1, 2)),
    ],
)
def test_r_not_1_renewal_opens_the_day_after_the_notice_date(expires: date, opens: date) -> None:
    """R-NOT-1: renewal is possible from the day after the notice date."""
    assert renewal_opens_on(expires) == opens


def test_r_not_1_add_months_is_the_shared_helper() -> None:
    """R-NOT-1 and R-VAL-7 ② share one month arithmetic (imported from cards)."""
    from apps.cards import rules as card_rules

    assert add_months is card_rules.add_months


@pytest.mark.parametrize(
    ("on", "latest"),
    [
        (date(2024, 2, 29), date(2024, 5, 31)),  # month end: 30 and 31 May clamp onto it
        (date(2024, 2, 28), date(2024, 5, 28)),
        (date(2023, 11, 30), date(2024, 2, 29)),
        (date(2023, 11, 29), date(2024, 2, 29)),
        (date(2024, 9, 30), date(2024, 12, 31)),
        (date(2024, 1, 30), date(2024, 4, 30)),
        (date(2023, 12, 30), date(2024, 3, 30)),
        (date(2024, 4, 30), date(2024, 7, 31)),
    ],
)
def test_r_not_1_latest_expiry_due_for_notice(on: date, latest: date) -> None:
    """R-NOT-1: the upper bound of the expiry range whose notice is due on a given day."""
    assert latest_expiry_due_for_notice(on) == latest
    assert notice_due_on(latest) <= on
    assert notice_due_on(latest + timedelta(days=1)) > on


expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31))


@given(expiries)
def test_r_not_1_property_about_three_months_before(expires: date) -> None:
    """R-NOT-1 property: 89–92 days before expiry, renewal opens the next day."""
    due = notice_due_on(expires)
    assert timedelta(days=89) <= expires - due <= timedelta(days=92)
    assert renewal_opens_on(expires) == due + timedelta(days=1)
    assert (expires.year * 12 + expires.month) - (due.year * 12 + due.month) == 3


@given(expiries, st.integers(min_value=1, max_value=400))
def test_r_not_1_property_due_date_never_decreases(expires: date, days: int) -> None:
    """R-NOT-1 property: a later expiry never has an earlier notice (the job scans a range)."""
    assert notice_due_on(expires) <= notice_due_on(expires + timedelta(days=days))


@given(expiries, st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 9, 30)))
def test_r_not_1_property_range_scan_bound_is_exact(expires: date, on: date) -> None:
    """R-NOT-1 property: notice due by ``on`` ⇔ expiry ≤ latest_expiry_due_for_notice(on)."""
    assert (notice_due_on(expires) <= on) is (expires <= latest_expiry_due_for_notice(on))
