"""Pure rules of the changes written on a card (R-CHG-1…4) and photo-less cards (R-EXP-4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.cards.rules import (
    CardState,
    ContinuedUseVoid,
    continued_use_card_problem,
    continued_use_deadline,
    continued_use_void_reason,
    endorsement_field_full,
    endorsement_room,
    former_surname_problem,
    name_as_card_shows,
    photo_less,
)

MOVED_IN = date(2026, 3, 1)
PLANNED_OUT = date(2026, 2, 25)


def _reason(**overrides: object) -> ContinuedUseVoid | None:
    data: dict[str, object] = {
        "moved_in_on": MOVED_IN,
        "move_in_notice_on": MOVED_IN,
        "planned_move_out_on": PLANNED_OUT,
        "registered_on": None,
        "on": MOVED_IN,
    }
    data.update(overrides)
    return continued_use_void_reason(**data)  # type: ignore[arg-type]


# --- R-CHG-4: the 90 days ------------------------------------------------------------------------


def test_r_chg_4_deadline_is_notice_plus_90() -> None:
    assert continued_use_deadline(move_in_notice_on=date(2026, 1, 10)) == date(2026, 4, 10)


def test_r_chg_4_unregistered_card_valid_on_day_90_void_on_day_91() -> None:
    notice = MOVED_IN
    assert _reason(on=notice + timedelta(days=90)) is None
    assert _reason(on=notice + timedelta(days=91)) is ContinuedUseVoid.NOT_REGISTERED_IN_TIME


def test_r_chg_4_registered_on_day_90_continues_for_good() -> None:
    day_90 = MOVED_IN + timedelta(days=90)
    assert _reason(registered_on=day_90, on=day_90) is None
    assert _reason(registered_on=day_90, on=day_90 + timedelta(days=400)) is None


def test_r_chg_4_registered_on_day_91_is_too_late() -> None:
    day_91 = MOVED_IN + timedelta(days=91)
    assert _reason(registered_on=day_91, on=day_91) is ContinuedUseVoid.NOT_REGISTERED_IN_TIME


# --- R-CHG-4: the 14 days after moving in --------------------------------------------------------


def test_r_chg_4_notice_on_moved_in_plus_14_is_in_time() -> None:
    notice = MOVED_IN + timedelta(days=14)
    assert _reason(move_in_notice_on=notice, planned_move_out_on=MOVED_IN, on=notice) is None


def test_r_chg_4_notice_on_moved_in_plus_15_voids() -> None:
    notice = MOVED_IN + timedelta(days=15)
    assert (
        _reason(move_in_notice_on=notice, planned_move_out_on=MOVED_IN, on=notice)
        is ContinuedUseVoid.LATE_MOVE_IN_NOTICE
    )


def test_r_chg_4_late_notice_voids_even_when_registered() -> None:
    notice = MOVED_IN + timedelta(days=15)
    assert (
        _reason(
            move_in_notice_on=notice, planned_move_out_on=MOVED_IN, registered_on=notice, on=notice
        )
        is ContinuedUseVoid.LATE_MOVE_IN_NOTICE
    )


# --- R-CHG-4: the 30 days after the planned move-out ---------------------------------------------


def test_r_chg_4_notice_on_planned_move_out_plus_30_is_in_time() -> None:
    planned = date(2026, 2, 1)
    moved_in = planned + timedelta(days=25)
    notice = planned + timedelta(days=30)  # moved-in + 5: within the 14 days too
    assert (
        _reason(
            moved_in_on=moved_in, move_in_notice_on=notice, planned_move_out_on=planned, on=notice
        )
        is None
    )


def test_r_chg_4_notice_on_planned_move_out_plus_31_voids() -> None:
    planned = date(2026, 2, 1)
    moved_in = planned + timedelta(days=25)
    notice = planned + timedelta(days=31)  # moved-in + 6: only the 30 days are broken
    assert (
        _reason(
            moved_in_on=moved_in, move_in_notice_on=notice, planned_move_out_on=planned, on=notice
        )
        is ContinuedUseVoid.LATE_MOVE_IN_NOTICE
    )


# --- R-CHG-4: moving out again first -------------------------------------------------------------


def test_r_chg_4_moved_out_again_before_registering_voids() -> None:
    out = MOVED_IN + timedelta(days=20)
    assert _reason(moved_out_again_on=out, on=out - timedelta(days=1)) is None
    assert _reason(moved_out_again_on=out, on=out) is ContinuedUseVoid.MOVED_OUT_AGAIN


def test_r_chg_4_moving_out_after_registering_is_an_ordinary_move() -> None:
    registered = MOVED_IN + timedelta(days=5)
    out = MOVED_IN + timedelta(days=20)
    assert _reason(registered_on=registered, moved_out_again_on=out, on=out) is None


def test_r_chg_4_impossible_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="転入日より前"):
        _reason(move_in_notice_on=MOVED_IN - timedelta(days=1))
    with pytest.raises(ValueError, match="転入届の日より前"):
        _reason(registered_on=MOVED_IN - timedelta(days=1))


def test_r_chg_4_only_an_active_unexpired_card_is_continued() -> None:
    on = date(2026, 3, 1)
    assert continued_use_card_problem(state=CardState.ACTIVE, expires_on=on, on=on) is None
    assert continued_use_card_problem(
        state=CardState.ACTIVE, expires_on=on - timedelta(days=1), on=on
    )
    assert continued_use_card_problem(state=CardState.SUSPENDED, expires_on=on, on=on)
    assert continued_use_card_problem(state=CardState.VOID, expires_on=on, on=on)
    assert continued_use_card_problem(state=CardState.EXPIRED, expires_on=on, on=on)


# --- R-CHG-1 / R-CHG-2 / R-CHG-3 -----------------------------------------------------------------


def test_r_chg_2_endorsement_room_and_full_at_capacity() -> None:
    assert endorsement_room(used=0, capacity=4) == 4
    assert endorsement_room(used=3, capacity=4) == 1
    assert not endorsement_field_full(used=3, capacity=4)
    assert endorsement_field_full(used=4, capacity=4)
    with pytest.raises(ValueError, match="1以上"):
        endorsement_room(used=0, capacity=0)


def test_r_chg_3_name_as_the_card_shows_it() -> None:
    assert name_as_card_shows(family_name="番号", given_name="花子", former_surname="旧氏") == (
        "番号 [旧氏] 花子"
    )
    assert name_as_card_shows(family_name="番号", given_name="花子") == "番号 花子"


def test_r_chg_3_available_from_2019_11_05_with_a_registered_former_surname() -> None:
    assert former_surname_problem(former_surname="佐藤", on=date(2019, 11, 5)) is None
    assert former_surname_problem(former_surname="佐藤", on=date(2019, 11, 4))
    assert former_surname_problem(former_surname="", on=date(2026, 1, 1))


# --- R-EXP-4 -------------------------------------------------------------------------------------


def test_r_exp_4_under_one_from_2024_12_02_has_no_photo() -> None:
    birth = date(2024, 6, 1)
    assert photo_less(birth_date=birth, applied_on=date(2024, 12, 2))
    assert not photo_less(birth_date=birth, applied_on=date(2024, 12, 1))
    assert photo_less(birth_date=birth, applied_on=date(2025, 5, 31))
    assert not photo_less(birth_date=birth, applied_on=date(2025, 6, 1))
