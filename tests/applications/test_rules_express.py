"""Express issuance windows (R-EXP-1) and which procedure each case is."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.applications.rules import (
    EXPRESS_KINDS,
    ApplicationKind,
    ExpressReason,
    express_deadline,
    express_problem,
)
from apps.fees.rules import ReissueReason

BIRTH = date(1990, 4, 1)


@pytest.mark.parametrize("reason", [r for r in ExpressReason if r is not ExpressReason.UNDER_ONE])
def test_r_exp_1_thirty_days_after_the_event(reason: ExpressReason) -> None:
    event = date(2025, 1, 31)
    assert express_deadline(reason=reason, event_on=event, birth_date=BIRTH) == date(2025, 3, 2)


def _problem(
    reason: ExpressReason, *, event_on: date | None, on: date, birth: date = BIRTH
) -> str | None:
    kind, reasons = EXPRESS_KINDS[reason]
    return express_problem(
        reason=reason,
        kind=kind,
        reissue_reason=min(reasons) if reasons else None,
        event_on=event_on,
        birth_date=birth,
        on=on,
    )


def test_r_exp_1_day_30_allowed_day_31_refused() -> None:
    event = date(2025, 6, 10)
    assert _problem(ExpressReason.CARD_LOST, event_on=event, on=event + timedelta(days=30)) is None
    assert _problem(ExpressReason.CARD_LOST, event_on=event, on=event + timedelta(days=31))


def test_r_exp_1_under_one_until_the_day_before_the_first_birthday() -> None:
    birth = date(2025, 3, 10)
    assert express_deadline(reason=ExpressReason.UNDER_ONE, event_on=birth, birth_date=birth) == (
        date(2026, 3, 9)
    )
    assert (
        _problem(ExpressReason.UNDER_ONE, event_on=None, on=date(2026, 3, 9), birth=birth) is None
    )
    assert _problem(ExpressReason.UNDER_ONE, event_on=None, on=date(2026, 3, 10), birth=birth)


def test_r_exp_1_under_one_born_29_february() -> None:
    # R-VAL-5: the first birthday is 28 February 2025, so the last day is 27 February.
    birth = date(2024, 2, 29)
    assert express_deadline(reason=ExpressReason.UNDER_ONE, event_on=birth, birth_date=birth) == (
        date(2025, 2, 27)
    )
    on_time = date(2025, 2, 27)
    assert _problem(ExpressReason.UNDER_ONE, event_on=None, on=on_time, birth=birth) is None
    assert _problem(ExpressReason.UNDER_ONE, event_on=None, on=date(2025, 2, 28), birth=birth)


def test_r_exp_1_not_before_2024_12_02() -> None:
    event = date(2024, 11, 20)
    assert _problem(ExpressReason.CARD_LOST, event_on=event, on=date(2024, 12, 1))
    assert _problem(ExpressReason.CARD_LOST, event_on=event, on=date(2024, 12, 2)) is None


def test_r_exp_1_the_case_must_match_the_procedure() -> None:
    on = date(2025, 6, 1)
    assert express_problem(
        reason=ExpressReason.CARD_LOST,
        kind=ApplicationKind.FIRST_ISSUE,
        reissue_reason=None,
        event_on=on,
        birth_date=BIRTH,
        on=on,
    )
    assert express_problem(
        reason=ExpressReason.CARD_LOST,
        kind=ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.DAMAGED,
        event_on=on,
        birth_date=BIRTH,
        on=on,
    )
    assert express_problem(
        reason=ExpressReason.CARD_LOST,
        kind=ApplicationKind.REISSUE,
        reissue_reason=None,
        event_on=None,
        birth_date=BIRTH,
        on=on,
    )


def test_r_exp_1_event_after_the_application_is_refused() -> None:
    on = date(2025, 6, 1)
    assert _problem(ExpressReason.CARD_LOST, event_on=on + timedelta(days=1), on=on)
