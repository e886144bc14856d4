"""Tests of apps.cards.rules: R-VAL-1 … R-VAL-7 and the card state machine.

Pure functions: no database, no Django.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.cards.rules import (
    CARD_STATE_LABELS,
    CARD_TRANSITIONS,
    TRANSITIONAL_STAY_DAYS,
    VALIDITY_RULE_SETS,
    CardState,
    ValidityRuleSet,
    add_months,
    age_line_age,
    can_transition,
    card_expiry,
    expiry_change,
    national_card_expiry,
    nth_birthday_after,
    residence_card_limit,
    rule_set_for,
    special_period_extension,
)
from apps.residents.rules import Residence, ResidenceCategory, age_on, birthday_in_year

# An application date under the current (age line 18) rule set.
APPLIED = date(2023, 1, 10)


def expiry(
    birth: date, issued: date, applied: date = APPLIED, residence: Residence | None = None
) -> date:
    return card_expiry(birth_date=birth, issued_on=issued, applied_on=applied, residence=residence)


# --- R-VAL-4: the government worked example and the "after" rule ---------------------------------


def test_r_val_4_government_worked_example() -> None:
    """R-VAL-4: adult, birthday 10 October, issued 2020-05-15 → 2029-10-10."""
    assert expiry(date(1980, 10, 10), date(2020, 5, 15), applied=date(2020, 4, 20)) == date(
        2029, 10, 10
    )


def test_r_val_4_issued_on_the_birthday_runs_a_full_ten_years() -> None:
    """R-VAL-4: "after" excludes the issue date: issued on the birthday → +10 years."""
    assert expiry(date(1980, 10, 10), date(2023, 10, 10)) == date(2033, 10, 10)


def test_r_val_4_issued_the_day_before_the_birthday() -> None:
    """R-VAL-4: issued the day before the birthday, that birthday is the first."""
    assert expiry(date(1980, 10, 10), date(2023, 10, 9)) == date(2032, 10, 10)


def test_r_val_4_issued_the_day_after_the_birthday() -> None:
    """R-VAL-4: issued the day after the birthday, the next year's birthday is the first."""
    assert expiry(date(1980, 10, 10), date(2023, 10, 11)) == date(2033, 10, 10)


def test_r_val_4_minor_issued_on_birthday_runs_a_full_five_years() -> None:
    """R-VAL-4 with R-VAL-2: a minor's card issued on the birthday runs 5 full years."""
    assert expiry(date(2015, 6, 1), date(2023, 6, 1)) == date(2028, 6, 1)
    assert expiry(date(2015, 6, 1), date(2023, 5, 31)) == date(2027, 6, 1)


@pytest.mark.parametrize(
    ("after", "n", "expected"),
    [
        (date(2020, 5, 15), 1, date(2020, 10, 10)),
        (date(2020, 10, 9), 1, date(2020, 10, 10)),
        (date(2020, 10, 10), 1, date(2021, 10, 10)),
        (date(2020, 10, 11), 1, date(2021, 10, 10)),
        (date(2020, 5, 15), 10, date(2029, 10, 10)),
        (date(1980, 10, 10), 1, date(1981, 10, 10)),  # the birth day itself is not a birthday
    ],
)
def test_r_val_4_nth_birthday_after(after: date, n: int, expected: date) -> None:
    """R-VAL-4: the n-th birthday strictly after a date."""
    assert nth_birthday_after(birth_date=date(1980, 10, 10), after=after, n=n) == expected


def test_nth_birthday_after_rejects_nonsense() -> None:
    """n must be at least 1 and the start date cannot precede birth."""
    with pytest.raises(ValueError, match="1以上"):
        nth_birthday_after(birth_date=date(2000, 1, 1), after=date(2001, 1, 1), n=0)
    with pytest.raises(ValueError, match="生年月日より前"):
        nth_birthday_after(birth_date=date(2000, 1, 1), after=date(1999, 1, 1), n=1)


# --- R-VAL-1 / R-VAL-2: issue date, adult and minor ------------------------------------------


def test_r_val_1_expiry_counts_from_the_jlis_issue_date_not_the_handover() -> None:
    """R-VAL-1: issued (made by J-LIS) the day before the birthday, handed over after it.

    The birthday between issue and handover is the first one counted, which only the issue
    date gives.
    """
    birth = date(1990, 7, 20)
    made_by_jlis = date(2023, 7, 19)
    handed_over = date(2023, 8, 3)
    assert expiry(birth, made_by_jlis) == date(2032, 7, 20)
    assert expiry(birth, handed_over) == date(2033, 7, 20)  # what using the handover would give


def test_r_val_2_adult_gets_the_tenth_birthday() -> None:
    """R-VAL-2: 18 or over on the issue date → 10th birthday after issue."""
    assert expiry(date(1970, 3, 3), date(2023, 4, 1)) == date(2033, 3, 3)


def test_r_val_2_minor_gets_the_fifth_birthday() -> None:
    """R-VAL-2: under 18 on the issue date → 5th birthday after issue."""
    assert expiry(date(2010, 3, 3), date(2023, 4, 1)) == date(2028, 3, 3)


def test_r_val_2_eighteenth_birthday_is_judged_on_the_issue_date() -> None:
    """R-VAL-2 policy: age on the issue date, the birthday itself counting as reached."""
    birth = date(2005, 9, 1)
    applied = date(2023, 8, 1)  # aged 17 at application: the policy judges at issue
    assert expiry(birth, date(2023, 8, 31), applied) == date(2027, 9, 1)  # 17: 5th birthday
    assert expiry(birth, date(2023, 9, 1), applied) == date(2033, 9, 1)  # 18 that day: 10th


def test_r_val_2_age_line_age_is_the_age_on_the_issue_date() -> None:
    """R-VAL-2 policy: the single switch point judges the age on the issue date."""
    birth = date(2005, 9, 1)
    assert (
        age_line_age(birth_date=birth, issued_on=date(2023, 9, 1), applied_on=date(2023, 8, 1))
        == 18
    )


@pytest.mark.parametrize(
    ("birth", "issued", "applied", "message"),
    [
        (date(2000, 1, 1), date(2023, 1, 1), date(2023, 1, 2), "発行日が申請日より前"),
        (date(2023, 1, 5), date(2023, 1, 10), date(2023, 1, 4), "申請日が生年月日より前"),
    ],
)
def test_card_expiry_rejects_impossible_dates(
    birth: date, issued: date, applied: date, message: str
) -> None:
    """J-LIS makes a card after the application, and nobody applies before birth."""
    with pytest.raises(ValueError, match=message):
        expiry(birth, issued, applied)


# --- R-VAL-3: effective-dated rule sets -------------------------------------------------------


def test_r_val_3_rule_sets_are_sorted_and_the_boundary_is_2022_04_01() -> None:
    """R-VAL-3: age line 20 through 2022-03-31, 18 from 2022-04-01."""
    starts = [r.starts_on for r in VALIDITY_RULE_SETS]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    assert rule_set_for(date(2022, 3, 31)).adult_age == 20
    assert rule_set_for(date(2022, 4, 1)).adult_age == 18
    for rule_set in VALIDITY_RULE_SETS:
        assert (rule_set.adult_years, rule_set.minor_years) == (10, 5)


def test_r_val_3_no_rule_set_before_card_applications_began() -> None:
    """R-VAL-3: an application date before the first rule set has no rule."""
    first = VALIDITY_RULE_SETS[0].starts_on
    assert rule_set_for(first) == VALIDITY_RULE_SETS[0]
    with pytest.raises(ValueError, match="規則がありません"):
        rule_set_for(first - timedelta(days=1))


def test_r_val_3_a_later_rule_set_is_a_new_entry() -> None:
    """R-VAL-3: a future change is a new rule set chosen from its start date on."""
    future = ValidityRuleSet(
        starts_on=date(2027, 4, 1), adult_age=18, adult_years=10, minor_years=10
    )
    sets = (*VALIDITY_RULE_SETS, future)
    assert rule_set_for(date(2027, 3, 31), sets) == VALIDITY_RULE_SETS[-1]
    assert rule_set_for(date(2027, 4, 1), sets) is future
    assert rule_set_for(date(2030, 1, 1), sets) is future


@pytest.mark.parametrize(
    ("age_at_issue", "applied", "expected_birthdays"),
    [
        (18, date(2022, 3, 31), 5),  # age line 20: an 18-year-old is a minor
        (19, date(2022, 3, 31), 5),
        (20, date(2022, 3, 31), 10),
        (17, date(2022, 4, 1), 5),
        (18, date(2022, 4, 1), 10),  # age line 18
        (19, date(2022, 4, 1), 10),
    ],
)
def test_r_val_3_application_boundary_with_applicants_aged_18_and_19(
    age_at_issue: int, applied: date, expected_birthdays: int
) -> None:
    """R-VAL-3: applied 2022-03-31 vs 2022-04-01, issued 2022-04-20, aged 18 or 19 at issue."""
    issued = date(2022, 4, 20)
    birth = date(2022 - age_at_issue, 1, 15)
    assert age_on(birth_date=birth, on=issued) == age_at_issue
    assert expiry(birth, issued, applied) == date(2022 + expected_birthdays, 1, 15)


# --- R-VAL-5: births on 29 February ------------------------------------------------------------

LEAPLING = date(2000, 2, 29)


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        # Issued in a leap year.
        (date(2024, 2, 28), date(2033, 2, 28)),  # day before the birthday: 2024-02-29 is first
        (date(2024, 2, 29), date(2034, 2, 28)),  # on the birthday: full 10 years
        (date(2024, 3, 1), date(2034, 2, 28)),
        # Issued in a non-leap year: the birthday is 28 February.
        (date(2023, 2, 27), date(2032, 2, 29)),  # 2023-02-28 is the first; 2032 is a leap year
        (date(2023, 2, 28), date(2033, 2, 28)),  # on the birthday
        (date(2023, 3, 1), date(2033, 2, 28)),
        (date(2022, 2, 28), date(2032, 2, 29)),  # 10th birthday lands in a leap year
    ],
)
def test_r_val_5_born_on_29_february(issued: date, expected: date) -> None:
    """R-VAL-5: 29 February births, issue in leap and non-leap years."""
    assert expiry(LEAPLING, issued, applied=issued) == expected


def test_r_val_5_born_on_29_february_turns_18_on_28_february() -> None:
    """R-VAL-5 with R-VAL-2: the age line is crossed on 28 February in a non-leap year."""
    birth = date(2008, 2, 29)
    applied = date(2026, 1, 10)
    # 2026 is not a leap year: the 18th birthday is 2026-02-28.
    assert expiry(birth, date(2026, 2, 27), applied) == date(2030, 2, 28)  # 17: 5th birthday
    assert expiry(birth, date(2026, 2, 28), applied) == date(2036, 2, 29)  # 18: 10th, leap year


# --- R-VAL-6: foreign residents -----------------------------------------------------------------

BIRTH = date(1990, 6, 15)
ISSUED = date(2023, 3, 1)
NATIONAL = date(2032, 6, 15)  # 10th birthday after ISSUED


@pytest.mark.parametrize(
    "category",
    [
        ResidenceCategory.PERMANENT,
        ResidenceCategory.HIGHLY_SKILLED_2,
        ResidenceCategory.SPECIAL_PERMANENT,
    ],
)
def test_r_val_6_permanent_categories_follow_the_national_rule(category: ResidenceCategory) -> None:
    """R-VAL-6: permanent, HSP (ii), special permanent → R-VAL-2."""
    assert expiry(BIRTH, ISSUED, residence=Residence(category)) == NATIONAL
    assert expiry(BIRTH, ISSUED, residence=None) == NATIONAL


@pytest.mark.parametrize(
    "category",
    [
        ResidenceCategory.MID_LONG_TERM,
        ResidenceCategory.TEMPORARY_REFUGE,
        ResidenceCategory.PROVISIONAL_STAY,
    ],
)
def test_r_val_6_period_categories_end_with_the_period(category: ResidenceCategory) -> None:
    """R-VAL-6: the end of the period of stay / permit, capped at the national date."""
    end = date(2026, 1, 31)
    assert expiry(BIRTH, ISSUED, residence=Residence(category, period_ends_on=end)) == end
    # Cap: a period beyond the national date gives the national date.
    long = Residence(category, period_ends_on=date(2040, 1, 1))
    assert expiry(BIRTH, ISSUED, residence=long) == NATIONAL
    exactly = Residence(category, period_ends_on=NATIONAL)
    assert expiry(BIRTH, ISSUED, residence=exactly) == NATIONAL
    # The stay ending on the issue day itself still gives a (one-day) card.
    same_day = Residence(category, period_ends_on=ISSUED)
    assert expiry(BIRTH, ISSUED, residence=same_day) == ISSUED


@pytest.mark.parametrize(
    "category",
    [
        ResidenceCategory.MID_LONG_TERM,
        ResidenceCategory.TEMPORARY_REFUGE,
        ResidenceCategory.PROVISIONAL_STAY,
        ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS,
    ],
)
def test_r_val_6_stay_that_ended_before_issue_is_an_error(category: ResidenceCategory) -> None:
    """R-VAL-6: a stay that ended before the card was made is a data error."""
    before = ISSUED - timedelta(days=61)
    residence = (
        Residence(category, event_on=before)
        if category is ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS
        else Residence(category, period_ends_on=before)
    )
    with pytest.raises(ValueError, match="発行日より前"):
        expiry(BIRTH, ISSUED, residence=residence)


def test_r_val_6_transitional_birth_is_birth_plus_60_days() -> None:
    """R-VAL-6: transitional stay by birth → birth + 60 days (first day not counted)."""
    birth = date(2024, 1, 1)
    residence = Residence(ResidenceCategory.TRANSITIONAL_BIRTH, event_on=birth)
    assert residence_card_limit(residence) == date(2024, 3, 1)
    assert expiry(birth, date(2024, 1, 20), applied=date(2024, 1, 5), residence=residence) == date(
        2024, 3, 1
    )


def test_r_val_6_transitional_birth_event_must_be_the_birth_date() -> None:
    """R-VAL-6: for a transitional stay by birth the event is the birth itself."""
    residence = Residence(ResidenceCategory.TRANSITIONAL_BIRTH, event_on=date(2024, 1, 2))
    with pytest.raises(ValueError, match="生年月日と一致しません"):
        expiry(date(2024, 1, 1), date(2024, 1, 20), applied=date(2024, 1, 5), residence=residence)


def test_r_val_6_transitional_nationality_loss_is_event_plus_60_days() -> None:
    """R-VAL-6: loss of Japanese nationality → that day + 60 days."""
    lost = date(2023, 2, 10)
    residence = Residence(ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS, event_on=lost)
    assert lost + timedelta(days=TRANSITIONAL_STAY_DAYS) == date(2023, 4, 11)
    assert expiry(BIRTH, ISSUED, residence=residence) == date(2023, 4, 11)


def test_r_val_6_never_later_than_the_national_rule_for_a_minor() -> None:
    """R-VAL-6: the cap applies to the minor's 5-year date too."""
    birth = date(2015, 4, 1)
    residence = Residence(ResidenceCategory.MID_LONG_TERM, period_ends_on=date(2035, 1, 1))
    assert expiry(birth, ISSUED, residence=residence) == date(2027, 4, 1)


def test_r_val_6_residence_card_limit_for_every_category() -> None:
    """R-VAL-6: the residence's own limit, or None for the national-rule categories."""
    end = date(2026, 1, 31)
    for category in ResidenceCategory:
        if category in (
            ResidenceCategory.PERMANENT,
            ResidenceCategory.HIGHLY_SKILLED_2,
            ResidenceCategory.SPECIAL_PERMANENT,
        ):
            assert residence_card_limit(Residence(category)) is None
        elif category in (
            ResidenceCategory.TRANSITIONAL_BIRTH,
            ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS,
        ):
            assert residence_card_limit(Residence(category, event_on=end)) == end + timedelta(60)
        else:
            assert residence_card_limit(Residence(category, period_ends_on=end)) == end


# --- R-VAL-7 ①: expiry change ------------------------------------------------------------------


def _change(requested: date, new_end: date, current: date = date(2025, 8, 31)) -> date:
    return expiry_change(
        birth_date=BIRTH,
        original_issued_on=ISSUED,
        applied_on=APPLIED,
        current_expires_on=current,
        requested_on=requested,
        new_period_ends_on=new_end,
    )


def test_r_val_7_expiry_change_moves_to_the_new_end_of_stay() -> None:
    """R-VAL-7 ①: after a renewal of status, the expiry moves to the new end of stay."""
    assert _change(date(2025, 8, 1), date(2028, 8, 31)) == date(2028, 8, 31)


def test_r_val_7_expiry_change_capped_at_the_national_date_from_the_original_issue() -> None:
    """R-VAL-7 ①: capped at R-VAL-2 counted from the original issue date."""
    assert _change(date(2025, 8, 1), date(2035, 8, 31)) == NATIONAL


def test_r_val_7_expiry_change_on_the_expiry_date_is_accepted() -> None:
    """R-VAL-7 ① policy: the card is valid through its expiry date, so that day is "before"."""
    assert _change(date(2025, 8, 31), date(2028, 8, 31)) == date(2028, 8, 31)


def test_r_val_7_expiry_change_after_expiry_is_refused() -> None:
    """R-VAL-7 ①: an application after the card expired is refused."""
    with pytest.raises(ValueError, match="有効期限を過ぎた"):
        _change(date(2025, 9, 1), date(2028, 8, 31))


def test_r_val_7_expiry_change_may_shorten_and_rejects_a_past_new_end() -> None:
    """R-VAL-7 ①: the expiry moves to the new end, even an earlier one, but not into the past."""
    assert _change(date(2025, 3, 1), date(2025, 6, 30)) == date(2025, 6, 30)
    with pytest.raises(ValueError, match="申請日より前"):
        _change(date(2025, 3, 1), date(2025, 2, 28))


def test_r_val_7_expiry_change_uses_the_original_applications_rule_set() -> None:
    """R-VAL-7 ① with R-VAL-3: a 19-year-old who applied on 2022-03-31 keeps the 5-year cap."""
    birth = date(2003, 1, 15)
    result = expiry_change(
        birth_date=birth,
        original_issued_on=date(2022, 4, 20),
        applied_on=date(2022, 3, 31),
        current_expires_on=date(2023, 1, 31),
        requested_on=date(2023, 1, 20),
        new_period_ends_on=date(2030, 1, 31),
    )
    assert result == date(2027, 1, 15)


# --- R-VAL-7 ②: special-period extension ------------------------------------------------------


def _extend(
    current: date,
    special_end: date,
    *,
    proof: bool = True,
    already: bool = False,
) -> date:
    return special_period_extension(
        current_expires_on=current,
        special_period_ends_on=special_end,
        proof_of_pending_application=proof,
        already_extended=already,
    )


def test_r_val_7_special_period_extension_to_the_end_of_the_special_period() -> None:
    """R-VAL-7 ②: once, with proof, to the end of the special period."""
    assert _extend(date(2025, 5, 15), date(2025, 7, 15)) == date(2025, 7, 15)
    assert _extend(date(2025, 5, 15), date(2025, 6, 1)) == date(2025, 6, 1)


def test_r_val_7_special_period_at_most_two_months_after_expiry() -> None:
    """R-VAL-7 ②: at most two calendar months after the original expiry, month ends clamped."""
    with pytest.raises(ValueError, match="2か月後"):
        _extend(date(2025, 5, 15), date(2025, 7, 16))
    # 2024-12-31 + 2 months clamps to 2025-02-28.
    assert _extend(date(2024, 12, 31), date(2025, 2, 28)) == date(2025, 2, 28)
    with pytest.raises(ValueError, match="2025-02-28"):
        _extend(date(2024, 12, 31), date(2025, 3, 1))
    assert _extend(date(2023, 12, 31), date(2024, 2, 29)) == date(2024, 2, 29)


def test_r_val_7_special_period_extension_only_once() -> None:
    """R-VAL-7 ②: once only."""
    with pytest.raises(ValueError, match="1回限り"):
        _extend(date(2025, 5, 15), date(2025, 7, 15), already=True)


def test_r_val_7_special_period_extension_needs_proof() -> None:
    """R-VAL-7 ②: proof that the immigration application is pending."""
    with pytest.raises(ValueError, match="確認書類"):
        _extend(date(2025, 5, 15), date(2025, 7, 15), proof=False)


def test_r_val_7_special_period_must_end_after_the_current_expiry() -> None:
    """R-VAL-7 ②: an "extension" that does not extend is refused."""
    with pytest.raises(ValueError, match="後ではありません"):
        _extend(date(2025, 5, 15), date(2025, 5, 15))


# --- add_months ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2024, 5, 31), -3, date(2024, 2, 29)),
        (date(2025, 5, 31), -3, date(2025, 2, 28)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 3, 15), -3, date(2023, 12, 15)),
        (date(2024, 1, 15), -13, date(2022, 12, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 6, 30), 0, date(2024, 6, 30)),
    ],
)
def test_add_months_clamps_to_month_end(d: date, months: int, expected: date) -> None:
    """Calendar months, clamped to the end of a shorter month (R-VAL-7 ②, R-NOT-1)."""
    assert add_months(d, months) == expected


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.integers(min_value=-600, max_value=600),
)
def test_add_months_property(d: date, months: int) -> None:
    """The result lies in the target month, on the same day or that month's last day."""
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(d.day, last)


# --- hypothesis properties of R-VAL-2 … R-VAL-6 -------------------------------------------------

current_rule_issue_dates = st.dates(min_value=date(2022, 4, 1), max_value=date(2080, 12, 31))


@given(st.data())
def test_r_val_2_property_adult_card_never_expires_before_a_seventeen_year_olds(
    data: st.DataObject,
) -> None:
    """R-VAL-2 property: issued the same day, 18+ never expires before 17 (age line 18)."""
    issued = data.draw(current_rule_issue_dates)
    applied = data.draw(st.dates(min_value=date(2022, 4, 1), max_value=issued))
    adult_birth = data.draw(
        st.dates(min_value=add_months(issued, -12 * 100), max_value=add_months(issued, -12 * 18))
    )
    minor_birth = data.draw(
        st.dates(
            min_value=add_months(issued, -12 * 18) + timedelta(days=1),
            max_value=add_months(issued, -12 * 17),
        )
    )
    assert age_on(birth_date=adult_birth, on=issued) >= 18
    assert age_on(birth_date=minor_birth, on=issued) == 17
    # Nobody applies before birth: for far-future issue dates lift the application date.
    applied = max(applied, minor_birth, adult_birth)
    assert expiry(adult_birth, issued, applied) >= expiry(minor_birth, issued, applied)


def _birthday_count_after(birth: date, after: date, until: date) -> int:
    """How many birthdays fall in (after, until]."""
    return sum(
        1
        for year in range(after.year, until.year + 1)
        if after < birthday_in_year(birth, year) <= until
    )


residence_categories = st.sampled_from(list(ResidenceCategory))


@given(st.data())
def test_r_val_4_property_expiry_is_the_nth_birthday_after_issue_or_the_residence_date(
    data: st.DataObject,
) -> None:
    """R-VAL-2/4/5/6 property: a birthday strictly after issue, or the residence's own date.

    The national date is exactly the 10th (adult) or 5th (minor) birthday after the issue date;
    a residence date is never later than it.
    """
    category = data.draw(st.none() | residence_categories)
    if category is ResidenceCategory.TRANSITIONAL_BIRTH:
        # Born here as a foreign national: the card is made within the 60 days.
        birth = data.draw(st.dates(min_value=date(2016, 1, 1), max_value=date(2060, 12, 31)))
        issued = data.draw(st.dates(min_value=birth, max_value=birth + timedelta(days=60)))
    else:
        birth = data.draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2060, 12, 31)))
        issued = data.draw(
            st.dates(min_value=max(birth, date(2016, 1, 1)), max_value=date(2070, 12, 31))
        )
    applied = data.draw(
        st.dates(min_value=max(birth, VALIDITY_RULE_SETS[0].starts_on), max_value=issued)
    )
    residence: Residence | None
    if category is None or category in (
        ResidenceCategory.PERMANENT,
        ResidenceCategory.HIGHLY_SKILLED_2,
        ResidenceCategory.SPECIAL_PERMANENT,
    ):
        residence = None if category is None else Residence(category)
    elif category is ResidenceCategory.TRANSITIONAL_BIRTH:
        residence = Residence(category, event_on=birth)
    elif category is ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS:
        event = data.draw(
            st.dates(min_value=max(birth, issued - timedelta(days=60)), max_value=issued)
        )
        residence = Residence(category, event_on=event)
    else:
        end = data.draw(st.dates(min_value=issued, max_value=issued + timedelta(days=365 * 12)))
        residence = Residence(category, period_ends_on=end)

    result = expiry(birth, issued, applied, residence)
    national = national_card_expiry(birth_date=birth, issued_on=issued, applied_on=applied)
    rules = rule_set_for(applied)
    n = (
        rules.adult_years
        if age_on(birth_date=birth, on=issued) >= rules.adult_age
        else rules.minor_years
    )

    assert national > issued
    assert national == birthday_in_year(birth, national.year)
    assert _birthday_count_after(birth, issued, national) == n
    assert issued <= result <= national
    limit = None if residence is None else residence_card_limit(residence)
    assert result == (national if limit is None else min(limit, national))


# --- card states --------------------------------------------------------------------------------


def test_card_states_have_values_and_japanese_labels() -> None:
    """Every state has a lowercase value and a Japanese label."""
    assert set(CARD_STATE_LABELS) == set(CardState)
    for state in CardState:
        assert state.value == state.name.lower()
        assert state.label == CARD_STATE_LABELS[state]
    assert CardState.ARRIVED.label == "到着(未交付)"
    assert CardState.ACTIVE.label == "交付済(有効)"
    assert CardState.VOID.label == "廃止"


EXPECTED_TRANSITIONS = {
    (CardState.ORDERED, CardState.ARRIVED),
    (CardState.ORDERED, CardState.VOID),
    (CardState.ARRIVED, CardState.ACTIVE),
    (CardState.ARRIVED, CardState.VOID),
    # R-STK-3: never collected, destroyed after the retention period; final.
    (CardState.ARRIVED, CardState.DESTROYED),
    (CardState.ACTIVE, CardState.SUSPENDED),
    (CardState.ACTIVE, CardState.EXPIRED),
    (CardState.ACTIVE, CardState.VOID),
    (CardState.ACTIVE, CardState.RETURNED),
    (CardState.ACTIVE, CardState.LOST),
    (CardState.SUSPENDED, CardState.ACTIVE),
    (CardState.SUSPENDED, CardState.EXPIRED),
    (CardState.SUSPENDED, CardState.VOID),
    (CardState.SUSPENDED, CardState.RETURNED),
    (CardState.SUSPENDED, CardState.LOST),
    (CardState.LOST, CardState.SUSPENDED),
    (CardState.LOST, CardState.VOID),
    (CardState.EXPIRED, CardState.RETURNED),
}


def test_card_transitions_table_is_exactly_the_designed_one() -> None:
    """The whole table, so any change to it is deliberate."""
    assert set(CARD_TRANSITIONS) == set(CardState)
    actual = {(a, b) for a, targets in CARD_TRANSITIONS.items() for b in targets}
    assert actual == EXPECTED_TRANSITIONS
    for a in CardState:
        for b in CardState:
            assert can_transition(a, b) is ((a, b) in EXPECTED_TRANSITIONS)


def test_r_sus_2_void_and_returned_cards_are_final() -> None:
    """R-SUS-2: a cancelled (廃止) card cannot be un-suspended; returned cards are final too."""
    assert CARD_TRANSITIONS[CardState.VOID] == frozenset()
    assert CARD_TRANSITIONS[CardState.RETURNED] == frozenset()
    assert not can_transition(CardState.VOID, CardState.ACTIVE)


def test_r_sus_2_found_card_is_back_in_use_only_through_the_counter() -> None:
    """R-SUS-2: a lost card that is found is still suspended; only SUSPENDED → ACTIVE resumes."""
    assert not can_transition(CardState.LOST, CardState.ACTIVE)
    assert can_transition(CardState.LOST, CardState.SUSPENDED)
    assert can_transition(CardState.SUSPENDED, CardState.ACTIVE)
    into_active = {a for a, targets in CARD_TRANSITIONS.items() if CardState.ACTIVE in targets}
    assert into_active == {CardState.ARRIVED, CardState.SUSPENDED}


def test_no_transition_skips_the_handover() -> None:
    """R-ISS-1: an ordered card reaches the holder only by arriving and being handed over."""
    assert not can_transition(CardState.ORDERED, CardState.ACTIVE)
    assert not can_transition(CardState.EXPIRED, CardState.ACTIVE)
    for state in CardState:
        assert not can_transition(state, CardState.ORDERED)
        assert not can_transition(state, state)
