"""Tests of apps.notices.rules: R-NOT-1 (notice due date, renewal window).

Pure functions: no database, no Django.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.notices.rules import (
    InvalidReferenceCodeError,
    NoticeKind,
    add_months,
    card_ends_with_period_of_stay,
    csv_safe,
    expiry_window,
    format_reference_code,
    latest_expiry_due_for_notice,
    luhn_check_digit,
    notice_due_on,
    parse_reference_code,
    reference_code_for,
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
        (date(2024, 12, 31), date(2024, 10, 1)),  # docs/rules.md example
        (date(2024, 3, 15), date(2023, 12, 16)),  # docs/rules.md example
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


# --- R-NOT-1: the job's window ------------------------------------------------------------------


def test_r_not_1_expiry_window_starts_today_and_ends_at_the_last_due_expiry() -> None:
    """R-NOT-1: the job scans [on, latest_expiry_due_for_notice(on)]."""
    assert expiry_window(date(2024, 2, 29)) == (date(2024, 2, 29), date(2024, 5, 31))


# --- R-NOT-3 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("foreign", "card", "national", "expected"),
    [
        (True, date(2027, 5, 20), date(2031, 10, 10), True),  # ends with the stay
        (True, date(2027, 5, 20), date(2027, 5, 20), False),  # the national date itself
        (True, date(2027, 5, 20), None, False),  # unknown: national notice is the default
        (False, date(2027, 5, 20), date(2031, 10, 10), False),  # nationals never
    ],
)
def test_r_not_3_card_ends_with_period_of_stay(
    foreign: bool, card: date, national: date | None, expected: bool
) -> None:
    """R-NOT-3: the city's reminder replaces the national notice when the stay cut the card."""
    assert (
        card_ends_with_period_of_stay(
            foreign=foreign, card_expires_on=card, national_expires_on=national
        )
        is expected
    )


def test_notice_kinds_have_japanese_labels() -> None:
    assert {kind.label for kind in NoticeKind} == {
        "有効期限通知書（カード）",
        "有効期限通知書（電子証明書）",
        "有効期限変更手続のお知らせ",
        "交付通知書",
        "有効期限のお知らせ（カード・市から）",
        "有効期限のお知らせ（電子証明書・市から）",
    }


# --- reference codes (R-ISS-1, R-MYN-2) --------------------------------------------------------


def test_reference_code_shape() -> None:
    """``N`` + 10 digits + Luhn digit: never bare 11 or 12 digits (resident code, My Number)."""
    assert reference_code_for(1) == "N00000000018"
    assert format_reference_code("N00000000018") == "N-00000-00001-8"
    assert luhn_check_digit("7992739871") == 3  # the textbook example
    with pytest.raises(ValueError, match="範囲外"):
        reference_code_for(0)
    with pytest.raises(ValueError, match="範囲外"):
        reference_code_for(10**10)


@pytest.mark.parametrize(
    "typed",
    [
        "N00000000018",
        "n-00000-00001-8",
        "Ｎ－０００００００００１８",
        "00000000018",
        " N 00000 00001 8 ",
    ],
)
def test_reference_code_is_read_back_however_typed(typed: str) -> None:
    assert parse_reference_code(typed) == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "入力してください"),
        ("N0000000001X", "数字以外"),
        ("N0000000018", "11桁"),
        ("N00000000019", "検査数字"),  # one digit wrong
        ("N00000000108", "検査数字"),  # two digits swapped
        ("N00000000000", "正しくありません"),
    ],
)
def test_reference_code_errors_say_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(InvalidReferenceCodeError, match=message):
        parse_reference_code(typed)


@given(st.integers(min_value=1, max_value=10**10 - 1))
def test_reference_code_round_trip(number: int) -> None:
    code = reference_code_for(number)
    assert parse_reference_code(code) == number
    assert parse_reference_code(format_reference_code(code)) == number


@given(st.integers(min_value=1, max_value=10**10 - 1), st.integers(0, 10), st.integers(1, 9))
def test_reference_code_catches_any_single_wrong_digit(
    number: int, position: int, delta: int
) -> None:
    body = reference_code_for(number)[1:]
    wrong = body[:position] + str((int(body[position]) + delta) % 10) + body[position + 1 :]
    with pytest.raises(InvalidReferenceCodeError):
        parse_reference_code("N" + wrong)


# --- CSV for the mailing vendor -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+81", "'+81"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("＝1", "'＝1"),  # full-width: a Japanese Excel reads it as a formula too
        ("山田 花子", "山田 花子"),
        ("053-0001", "053-0001"),
        ("", ""),
    ],
)
def test_csv_safe(value: str, safe: str) -> None:
    assert csv_safe(value) == safe
