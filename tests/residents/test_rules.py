"""Tests of apps.residents.rules: R-MYN-1, R-MYN-2 (masking), R-VAL-5, R-VAL-6 (Residence).

Pure functions: no database, no Django.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.residents.rules import (
    RESIDENCE_CATEGORY_LABELS,
    InvalidMyNumberError,
    Residence,
    ResidenceCategory,
    age_on,
    birthday_in_year,
    is_valid_my_number,
    mask_my_number,
    my_number_check_digit,
    normalize_my_number,
)

VALID = "123456789018"
WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


def _remainder(first11: str) -> int:
    return sum(int(d) * w for d, w in zip(first11, WEIGHTS, strict=True)) % 11


def _with_check_digit(first11: str) -> str:
    return first11 + str(my_number_check_digit(first11))


# --- R-MYN-1: check digit -----------------------------------------------------------------------


def test_r_myn_1_domain_examples() -> None:
    """R-MYN-1: 123456789018 is valid, 123456789011 is not."""
    assert is_valid_my_number("123456789018")
    assert not is_valid_my_number("123456789011")
    assert my_number_check_digit("12345678901") == 8


@pytest.mark.parametrize(
    ("first11", "remainder", "check"),
    [
        ("00000000000", 0, 0),  # r = 0 → 0
        ("00000000006", 1, 0),  # r = 12 mod 11 = 1 → 0
        ("00000000001", 2, 9),  # r = 2 → 11 − 2
        ("00000000005", 10, 1),  # r = 10 → 1
    ],
)
def test_r_myn_1_check_digit_remainder_cases(first11: str, remainder: int, check: int) -> None:
    """R-MYN-1: check digit is 0 when r ≤ 1, else 11 − r."""
    assert _remainder(first11) == remainder
    assert my_number_check_digit(first11) == check


@pytest.mark.parametrize(
    "bad", ["", "1234567890", "123456789012", "１２３４５６７８９０１", "1234567890a"]
)
def test_r_myn_1_check_digit_needs_eleven_ascii_digits(bad: str) -> None:
    """R-MYN-1: the check digit is defined for exactly eleven ASCII digits."""
    with pytest.raises(ValueError, match="11桁"):
        my_number_check_digit(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "12345678901",  # 11 digits
        "1234567890180",  # 13 digits
        "１２３４５６７８９０１８",  # full-width: only normalize_my_number accepts these
        "1234-5678-9018",
        " 123456789018",
        "١٢٣٤٥٦٧٨٩٠١٨",  # Arabic-Indic digits pass str.isdigit() but are not ASCII
    ],
)
def test_r_myn_1_is_valid_rejects_anything_but_twelve_ascii_digits(bad: str) -> None:
    """R-MYN-1: is_valid_my_number does no normalisation."""
    assert not is_valid_my_number(bad)


@given(eleven_digits)
def test_r_myn_1_appending_the_check_digit_gives_a_valid_number(first11: str) -> None:
    """R-MYN-1 property: any eleven digits plus their computed check digit are valid."""
    number = _with_check_digit(first11)
    assert is_valid_my_number(number)
    assert normalize_my_number(number) == number


@given(eleven_digits, st.data())
def test_r_myn_1_changing_the_check_digit_makes_it_invalid(
    first11: str, data: st.DataObject
) -> None:
    """R-MYN-1 property: exactly one check digit is right for the first eleven digits."""
    number = _with_check_digit(first11)
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != number[-1]]))
    assert not is_valid_my_number(number[:-1] + other)


@given(eleven_digits, st.integers(min_value=0, max_value=10), st.data())
def test_r_myn_1_changing_one_of_the_first_eleven_digits(
    first11: str, position: int, data: st.DataObject
) -> None:
    """R-MYN-1 property: a single changed digit is caught, with the scheme's one blind spot.

    Both r = 0 and r = 1 give check digit 0, so a change that moves r between 0 and 1 keeps the
    number valid (e.g. 000000000000 → 000000000060). Every other single-digit change is caught,
    because 11 is prime and no weight or digit difference is a multiple of 11.
    """
    number = _with_check_digit(first11)
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != first11[position]]))
    changed11 = first11[:position] + new_digit + first11[position + 1 :]
    changed = changed11 + number[-1]
    blind_spot = {_remainder(first11), _remainder(changed11)} == {0, 1}
    assert is_valid_my_number(changed) is blind_spot


def test_r_myn_1_check_digit_blind_spot_example() -> None:
    """R-MYN-1: r = 0 and r = 1 share check digit 0 (a property of the official scheme)."""
    assert is_valid_my_number("000000000000")
    assert is_valid_my_number("000000000060")


# --- R-MYN-1: normalising clerk input -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "123456789018",
        "１２３４５６７８９０１８",  # full-width digits
        "1234 5678 9018",
        "1234\u30005678\u30009018",  # full-width spaces
        "1234\u00a05678\u00a09018",  # no-break spaces
        "1234-5678-9018",
        "1234－5678－9018",  # full-width hyphen-minus
        "1234ー5678ー9018",  # katakana prolonged sound mark
        "1234ｰ5678ｰ9018",  # half-width prolonged sound mark
        "1234‐5678‐9018",  # U+2010 hyphen
        "1234–5678—9018",  # en dash, em dash
        "1234―5678−9018",  # horizontal bar, minus sign
        "１２３４ー５６７８ー９０１８",
        "  1234 - 5678 - 9018  ",
        "1-2-3-4-5-6-7-8-9-0-1-8",
    ],
)
def test_r_myn_1_normalize_accepts_full_width_spaces_and_hyphens(typed: str) -> None:
    """R-MYN-1: full-width digits, spaces and hyphens typed by a clerk are normalised."""
    assert normalize_my_number(typed) == VALID


@pytest.mark.parametrize(
    "typed",
    [
        "1234567890I8",  # letter I for 1
        "12345678901O",  # letter O for 0
        "1234.5678.9018",
        "1234/5678/9018",
        "1234\t5678\t9018",  # tab is not one of the allowed separators
        "123456789018\n",
        "1234_5678_9018",
        "１２３４５６７８９０１８号",
        "١٢٣٤٥٦٧٨٩٠١٨",  # Arabic-Indic digits
        "12345678901²",  # superscript two: str.isdigit() says True
        "+123456789018",
    ],
)
def test_r_myn_1_normalize_rejects_other_characters(typed: str) -> None:
    """R-MYN-1: anything but digits, spaces and hyphens is a clear validation error."""
    with pytest.raises(InvalidMyNumberError, match="使用できない文字") as excinfo:
        normalize_my_number(typed)
    assert excinfo.value.code == InvalidMyNumberError.INVALID_CHARACTERS


def test_r_myn_1_normalize_names_the_bad_character_and_position() -> None:
    """R-MYN-1: the message tells the clerk what to fix."""
    with pytest.raises(InvalidMyNumberError, match=r"「O」.*12文字目"):
        normalize_my_number("12345678901O")
    with pytest.raises(InvalidMyNumberError, match=r"U\+0009"):
        normalize_my_number("1234\t5678")


@pytest.mark.parametrize(
    ("typed", "count"),
    [
        ("12345678901", 11),
        ("1234567890180", 13),
        ("１２３４", 4),
        ("1234-5678-901", 11),
    ],
)
def test_r_myn_1_normalize_rejects_wrong_length(typed: str, count: int) -> None:
    """R-MYN-1: after normalisation exactly 12 digits are needed."""
    with pytest.raises(InvalidMyNumberError, match=f"12桁です（入力された数字は{count}桁）") as e:
        normalize_my_number(typed)
    assert e.value.code == InvalidMyNumberError.INVALID_LENGTH


@pytest.mark.parametrize("typed", ["", "   ", "ー－-", "\u3000"])
def test_r_myn_1_normalize_rejects_empty_input(typed: str) -> None:
    """R-MYN-1: nothing typed (or only separators) is a length error with its own message."""
    with pytest.raises(InvalidMyNumberError, match="入力されていません") as e:
        normalize_my_number(typed)
    assert e.value.code == InvalidMyNumberError.INVALID_LENGTH


def test_r_myn_1_normalize_rejects_wrong_check_digit() -> None:
    """R-MYN-1: a wrong check digit is reported as such."""
    with pytest.raises(InvalidMyNumberError, match="チェックデジット") as e:
        normalize_my_number("1234-5678-9011")
    assert e.value.code == InvalidMyNumberError.CHECK_DIGIT_MISMATCH
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("typed", ["123456789011", "12345678901", "1234567890180", "12345678901O"])
def test_r_myn_2_error_messages_never_contain_the_number(typed: str) -> None:
    """R-MYN-2: a My Number never appears in an error report."""
    with pytest.raises(InvalidMyNumberError) as e:
        normalize_my_number(typed)
    message = str(e.value)
    assert "1234" not in message
    assert "9011" not in message
    assert "8901" not in message


@given(
    eleven_digits,
    st.lists(st.sampled_from([" ", "\u3000", "-", "ー", "－", "‐"]), min_size=12, max_size=12),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_r_myn_1_normalize_property_separators_and_width_do_not_matter(
    first11: str, separators: list[str], full_width: list[bool]
) -> None:
    """R-MYN-1 property: any mix of full-width digits and separators normalises to the digits."""
    number = _with_check_digit(first11)
    typed = "".join(
        (chr(0xFF10 + int(d)) if wide else d) + sep
        for d, sep, wide in zip(number, separators, full_width, strict=True)
    )
    assert normalize_my_number(typed) == number


# --- R-MYN-2: masking ---------------------------------------------------------------------------


def test_r_myn_2_mask_shows_only_the_last_four_digits() -> None:
    """R-MYN-2: shown masked unless a permitted user asks."""
    assert mask_my_number(VALID) == "**** **** 9018"


@pytest.mark.parametrize("bad", ["", "1234-5678-9018", "12345678901", "１２３４５６７８９０１８"])
def test_r_myn_2_mask_rejects_unnormalised_input_without_echoing_it(bad: str) -> None:
    """R-MYN-2: masking expects the stored 12-digit form; the error does not repeat it."""
    with pytest.raises(ValueError, match="12桁") as e:
        mask_my_number(bad)
    assert "5678" not in str(e.value)


# --- R-VAL-6: status of residence ---------------------------------------------------------------


def test_r_val_6_residence_categories_have_values_and_japanese_labels() -> None:
    """R-VAL-6: every category has a lowercase value and a Japanese label."""
    assert set(RESIDENCE_CATEGORY_LABELS) == set(ResidenceCategory)
    for category in ResidenceCategory:
        assert category.value == category.name.lower()
        assert category.label == RESIDENCE_CATEGORY_LABELS[category]
    assert ResidenceCategory("permanent") is ResidenceCategory.PERMANENT
    assert ResidenceCategory.PERMANENT.label == "永住者"
    assert ResidenceCategory.HIGHLY_SKILLED_2.label == "高度専門職2号"
    assert ResidenceCategory.SPECIAL_PERMANENT.label == "特別永住者"
    assert ResidenceCategory.MID_LONG_TERM.label == "中長期在留者"
    assert ResidenceCategory.TEMPORARY_REFUGE.label == "一時庇護許可者"
    assert ResidenceCategory.PROVISIONAL_STAY.label == "仮滞在許可者"
    assert ResidenceCategory.TRANSITIONAL_BIRTH.label == "経過滞在者(出生)"
    assert ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS.label == "経過滞在者(国籍喪失)"


NATIONAL = [
    ResidenceCategory.PERMANENT,
    ResidenceCategory.HIGHLY_SKILLED_2,
    ResidenceCategory.SPECIAL_PERMANENT,
]
PERIOD = [
    ResidenceCategory.MID_LONG_TERM,
    ResidenceCategory.TEMPORARY_REFUGE,
    ResidenceCategory.PROVISIONAL_STAY,
]
EVENT = [ResidenceCategory.TRANSITIONAL_BIRTH, ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS]
D = date(2025, 1, 1)


@pytest.mark.parametrize("category", NATIONAL)
def test_r_val_6_national_rule_categories_take_no_dates(category: ResidenceCategory) -> None:
    """R-VAL-6: permanent, HSP (ii) and special permanent follow R-VAL-2 and have no end date."""
    residence = Residence(category)
    assert residence.follows_national_rule
    with pytest.raises(ValueError, match="満了日を指定できません"):
        Residence(category, period_ends_on=D)
    with pytest.raises(ValueError, match="指定できません"):
        Residence(category, event_on=D)


@pytest.mark.parametrize("category", PERIOD)
def test_r_val_6_period_categories_need_the_end_of_the_period(category: ResidenceCategory) -> None:
    """R-VAL-6: mid-to-long-term, temporary refuge and provisional stay need period_ends_on."""
    residence = Residence(category, period_ends_on=D)
    assert not residence.follows_national_rule
    with pytest.raises(ValueError, match="満了日が必要です"):
        Residence(category)
    with pytest.raises(ValueError, match="指定できません"):
        Residence(category, period_ends_on=D, event_on=D)


@pytest.mark.parametrize("category", EVENT)
def test_r_val_6_transitional_categories_need_the_event_date(category: ResidenceCategory) -> None:
    """R-VAL-6: transitional stay needs the date of birth or of the loss of nationality."""
    residence = Residence(category, event_on=D)
    assert not residence.follows_national_rule
    with pytest.raises(ValueError, match="出生日または国籍喪失日が必要です"):
        Residence(category)
    with pytest.raises(ValueError, match="満了日を指定できません"):
        Residence(category, period_ends_on=D, event_on=D)


def test_residence_is_frozen() -> None:
    """A Residence is a value: it cannot be changed after validation."""
    residence = Residence(ResidenceCategory.MID_LONG_TERM, period_ends_on=D)
    with pytest.raises(AttributeError):
        residence.period_ends_on = None  # type: ignore[misc]


# --- R-VAL-5 / R-VAL-2: birthdays and age -------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "year", "expected"),
    [
        (date(2000, 2, 29), 2024, date(2024, 2, 29)),
        (date(2000, 2, 29), 2023, date(2023, 2, 28)),
        (date(2000, 2, 29), 2100, date(2100, 2, 28)),  # 2100 is not a leap year
        (date(1980, 10, 10), 2029, date(2029, 10, 10)),
        (date(2001, 2, 28), 2024, date(2024, 2, 28)),
        (date(2001, 3, 1), 2024, date(2024, 3, 1)),
    ],
)
def test_r_val_5_birthday_in_year(birth: date, year: int, expected: date) -> None:
    """R-VAL-5: a 29 February birth has the birthday on 28 February in non-leap years."""
    assert birthday_in_year(birth, year) == expected


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2004, 4, 2), date(2022, 4, 2), 18),  # the birthday itself counts
        (date(2004, 4, 2), date(2022, 4, 1), 17),  # not the day before (policy, R-VAL-2)
        (date(2004, 4, 2), date(2004, 4, 2), 0),
        (date(2004, 2, 29), date(2022, 2, 28), 18),  # R-VAL-5, non-leap year
        (date(2004, 2, 29), date(2022, 2, 27), 17),
        (date(2004, 2, 29), date(2024, 2, 28), 19),  # leap year: birthday is 29 Feb
        (date(2004, 2, 29), date(2024, 2, 29), 20),
        (date(2004, 2, 29), date(2024, 3, 1), 20),
    ],
)
def test_r_val_2_age_on_counts_the_birthday_itself(birth: date, on: date, age: int) -> None:
    """R-VAL-2 policy: completed years, a birthday reached on the day itself; R-VAL-5."""
    assert age_on(birth_date=birth, on=on) == age


def test_age_on_before_birth_is_an_error() -> None:
    """An age before birth is a data error, not a negative number."""
    with pytest.raises(ValueError, match="生年月日より前"):
        age_on(birth_date=date(2000, 1, 1), on=date(1999, 12, 31))


births = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@given(births, st.integers(min_value=0, max_value=120))
def test_r_val_5_age_turns_on_the_birthday_in_year(birth: date, years: int) -> None:
    """R-VAL-2/R-VAL-5 property: age becomes k on birthday_in_year(birth, birth.year + k)."""
    birthday = birthday_in_year(birth, birth.year + years)
    assert age_on(birth_date=birth, on=birthday) == years
    if years > 0:
        assert age_on(birth_date=birth, on=birthday - timedelta(days=1)) == years - 1


@given(births, st.integers(min_value=0, max_value=40000))
def test_age_on_never_decreases(birth: date, days: int) -> None:
    """Age is monotone in the date and grows by at most one from one day to the next."""
    on = birth + timedelta(days=days)
    today = age_on(birth_date=birth, on=on)
    tomorrow = age_on(birth_date=birth, on=on + timedelta(days=1))
    assert tomorrow - today in (0, 1)
