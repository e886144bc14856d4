"""Express fees (R-EXP-2): the rule and the quote from the schedule in force."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.fees.rules import FeeRow, Procedure, ReissueReason, fee_row_for
from apps.fees.services import fee_quote


@pytest.mark.parametrize(
    ("reason", "with_certificates", "row"),
    [
        (ReissueReason.LOST, True, FeeRow.EXPRESS_WITH_CERTS),
        (ReissueReason.STOLEN, False, FeeRow.EXPRESS_NO_CERTS),
        (ReissueReason.DAMAGED, True, FeeRow.EXPRESS_WITH_CERTS),
        (ReissueReason.ENDORSEMENT_FULL, True, FeeRow.REISSUE_ENDORSEMENT_FULL),
        (ReissueReason.DISASTER, True, FeeRow.REISSUE_DISASTER),
        (ReissueReason.NUMBER_CHANGED, True, FeeRow.REISSUE_NUMBER_CHANGED),
    ],
)
def test_r_exp_2_rows(reason: ReissueReason, with_certificates: bool, row: FeeRow) -> None:
    assert (
        fee_row_for(
            procedure=Procedure.REISSUE,
            reason=reason,
            with_certificates=with_certificates,
            express=True,
        )
        is row
    )


def test_r_exp_2_first_issue_express_is_free() -> None:
    assert fee_row_for(procedure=Procedure.FIRST_ISSUE, express=True) is FeeRow.FIRST_ISSUE_FREE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "with_certificates", "amount"),
    [
        (ReissueReason.LOST, True, 2000),
        (ReissueReason.LOST, False, 1800),
        (ReissueReason.DAMAGED, True, 2000),
        (ReissueReason.ENDORSEMENT_FULL, True, 0),
    ],
)
def test_r_exp_2_quote_amounts(
    default_fee_schedule: Any, reason: ReissueReason, with_certificates: bool, amount: int
) -> None:
    quote = fee_quote(
        procedure=Procedure.REISSUE,
        reason=reason,
        with_certificates=with_certificates,
        on=date(2024, 12, 2),
        express=True,
    )
    assert quote.amount_yen == amount
    ordinary = fee_quote(
        procedure=Procedure.REISSUE,
        reason=reason,
        with_certificates=with_certificates,
        on=date(2024, 12, 2),
    )
    assert ordinary.amount_yen == {2000: 1000, 1800: 800, 0: 0}[amount]


@pytest.mark.django_db
def test_r_exp_2_express_quote_before_2024_12_02_is_refused(default_fee_schedule: Any) -> None:
    with pytest.raises(ValidationError, match="特急発行"):
        fee_quote(
            procedure=Procedure.REISSUE,
            reason=ReissueReason.LOST,
            on=date(2024, 12, 1),
            express=True,
        )
    fee_quote(procedure=Procedure.REISSUE, reason=ReissueReason.LOST, on=date(2024, 12, 1))
