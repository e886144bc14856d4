"""Tests of apps.fees.rules: the R-REI fee table rows, R-REI-1 evidence, R-REI-2, R-REI-3.

Pure functions: no database, no Django.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.fees.rules import (
    DEFAULT_FEE_AMOUNTS,
    EVIDENCE_LABELS,
    FEE_ROW_LABELS,
    FEE_ROW_RULES,
    FEE_ROWS_NEEDING_APPROVAL,
    PROCEDURE_LABELS,
    REISSUE_REASON_LABELS,
    Evidence,
    FeeRow,
    Procedure,
    ReissueReason,
    fee_row_for,
    required_evidence,
)

P = Procedure
R = ReissueReason


# One case per row of the R-REI table (rows with/without certificates split in two).
TABLE = [
    # (procedure, reason, with_certificates, old_card_returned, row, yen)
    (P.FIRST_ISSUE, None, True, True, FeeRow.FIRST_ISSUE_FREE, 0),
    (P.RENEWAL, None, True, True, FeeRow.RENEWAL_FREE, 0),
    (P.RENEWAL, None, True, False, FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS, 1000),
    (P.RENEWAL, None, False, False, FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS, 800),
    (P.REISSUE, R.LOST, True, False, FeeRow.REISSUE_LOSS_WITH_CERTS, 1000),
    (P.REISSUE, R.STOLEN, True, False, FeeRow.REISSUE_LOSS_WITH_CERTS, 1000),
    (P.REISSUE, R.LOST, False, False, FeeRow.REISSUE_LOSS_NO_CERTS, 800),
    (P.REISSUE, R.STOLEN, False, False, FeeRow.REISSUE_LOSS_NO_CERTS, 800),
    (P.REISSUE, R.DAMAGED, True, True, FeeRow.REISSUE_DAMAGE_WITH_CERTS, 1000),
    (P.REISSUE, R.DAMAGED, False, True, FeeRow.REISSUE_DAMAGE_NO_CERTS, 800),
    (P.REISSUE, R.ENDORSEMENT_FULL, True, True, FeeRow.REISSUE_ENDORSEMENT_FULL, 0),
    (P.REISSUE, R.DISASTER, True, False, FeeRow.REISSUE_DISASTER, 0),
    (P.REISSUE, R.NOT_HOLDER_FAULT, True, True, FeeRow.REISSUE_NOT_HOLDER_FAULT, 0),
    (P.REISSUE, R.NUMBER_CHANGED, True, True, FeeRow.REISSUE_NUMBER_CHANGED, 0),
    (P.CERTIFICATE_ISSUE, None, True, True, FeeRow.CERTIFICATE_ONLY, 0),
    # Issue 10: changes on the card (R-CHG-1, R-VAL-7) are free.
    (P.CARD_CHANGE, None, False, True, FeeRow.CARD_CHANGE_FREE, 0),
]

# Issue 10: the express rows (R-EXP-2), reached with ``express=True`` (their cases
# and amounts: tests/fees/test_express_fees.py).
EXPRESS_TABLE = [
    (P.REISSUE, R.LOST, True, False, FeeRow.EXPRESS_WITH_CERTS, 2000),
    (P.REISSUE, R.DAMAGED, False, True, FeeRow.EXPRESS_NO_CERTS, 1800),
]


@pytest.mark.parametrize(("procedure", "reason", "certs", "returned", "row", "yen"), TABLE)
def test_r_rei_table_rows(
    procedure: Procedure,
    reason: ReissueReason | None,
    certs: bool,
    returned: bool,
    row: FeeRow,
    yen: int,
) -> None:
    """R-REI table: each case lands on its row, with today's amount."""
    result = fee_row_for(
        procedure=procedure, reason=reason, with_certificates=certs, old_card_returned=returned
    )
    assert result is row
    assert DEFAULT_FEE_AMOUNTS[result] == yen


def test_r_rei_table_every_row_is_reachable_and_described() -> None:
    """R-REI table / R-REI-3: every row is used, has an amount, a label and a rule citation."""
    assert {case[4] for case in TABLE} | {case[4] for case in EXPRESS_TABLE} == set(FeeRow)
    assert set(DEFAULT_FEE_AMOUNTS) == set(FeeRow)
    assert set(FEE_ROW_LABELS) == set(FeeRow)
    assert set(FEE_ROW_RULES) == set(FeeRow)
    for row in FeeRow:
        assert row.value == row.name.lower()
        assert "R-REI" in row.rule
        assert row.label


def test_r_rei_table_loss_fee_is_card_plus_certificates() -> None:
    """R-REI table: 1,000 yen = card 800 + certificates 200."""
    with_certs = DEFAULT_FEE_AMOUNTS[FeeRow.REISSUE_LOSS_WITH_CERTS]
    without = DEFAULT_FEE_AMOUNTS[FeeRow.REISSUE_LOSS_NO_CERTS]
    assert (with_certs, without, with_certs - without) == (1000, 800, 200)


def test_r_rei_2_lost_old_card_turns_renewal_into_a_paid_reissue() -> None:
    """R-REI-2: renewal is free only with the old card returned; otherwise charged as reissue."""
    free = fee_row_for(procedure=P.RENEWAL, old_card_returned=True, with_certificates=False)
    assert DEFAULT_FEE_AMOUNTS[free] == 0
    for certs in (True, False):
        renewal = fee_row_for(procedure=P.RENEWAL, old_card_returned=False, with_certificates=certs)
        reissue = fee_row_for(procedure=P.REISSUE, reason=R.LOST, with_certificates=certs)
        assert DEFAULT_FEE_AMOUNTS[renewal] == DEFAULT_FEE_AMOUNTS[reissue] > 0


@pytest.mark.parametrize("reason", [R.LOST, R.STOLEN])
@pytest.mark.parametrize("certs", [True, False])
def test_r_rei_loss_ignores_old_card_returned(reason: ReissueReason, certs: bool) -> None:
    """R-REI table: after loss or theft the old card is gone; the flag does not matter."""
    rows = {
        fee_row_for(
            procedure=P.REISSUE, reason=reason, with_certificates=certs, old_card_returned=r
        )
        for r in (True, False)
    }
    assert len(rows) == 1


@pytest.mark.parametrize("certs", [True, False])
def test_r_rei_disaster_is_free_whether_or_not_the_card_survived(certs: bool) -> None:
    """R-REI table: disaster reissue is free; a burnt card cannot be returned."""
    for returned in (True, False):
        row = fee_row_for(
            procedure=P.REISSUE,
            reason=R.DISASTER,
            with_certificates=certs,
            old_card_returned=returned,
        )
        assert row is FeeRow.REISSUE_DISASTER


@pytest.mark.parametrize(
    ("reason", "free_row"),
    [
        (R.ENDORSEMENT_FULL, FeeRow.REISSUE_ENDORSEMENT_FULL),
        (R.NOT_HOLDER_FAULT, FeeRow.REISSUE_NOT_HOLDER_FAULT),
        (R.NUMBER_CHANGED, FeeRow.REISSUE_NUMBER_CHANGED),
    ],
)
def test_r_rei_free_rows_do_not_depend_on_certificates(
    reason: ReissueReason, free_row: FeeRow
) -> None:
    """R-REI table: the free reissue rows are free with or without certificates."""
    for certs in (True, False):
        assert fee_row_for(procedure=P.REISSUE, reason=reason, with_certificates=certs) is free_row


@pytest.mark.parametrize(
    "reason", [R.DAMAGED, R.ENDORSEMENT_FULL, R.NUMBER_CHANGED, R.NOT_HOLDER_FAULT]
)
def test_r_rei_2_reasons_that_need_the_old_card(reason: ReissueReason) -> None:
    """R-REI-1/R-REI-2: these reasons need the old card; a lost one must be recorded as a loss."""
    with pytest.raises(ValueError, match="旧カードの返納が必要です"):
        fee_row_for(procedure=P.REISSUE, reason=reason, old_card_returned=False)


def test_r_rei_reissue_requires_a_reason() -> None:
    """R-REI table: a reissue's fee depends on its reason, so one is required."""
    with pytest.raises(ValueError, match="再交付の理由を選択"):
        fee_row_for(procedure=P.REISSUE)


@pytest.mark.parametrize("procedure", [P.FIRST_ISSUE, P.RENEWAL, P.CERTIFICATE_ISSUE])
def test_r_rei_reason_only_for_reissue(procedure: Procedure) -> None:
    """R-REI table: a reissue reason on another procedure would be silently ignored: refused."""
    with pytest.raises(ValueError, match="再交付以外"):
        fee_row_for(procedure=procedure, reason=R.LOST)


@given(
    st.sampled_from(list(Procedure)),
    st.none() | st.sampled_from(list(ReissueReason)),
    st.booleans(),
    st.booleans(),
)
def test_r_rei_property_classification_is_total(
    procedure: Procedure, reason: ReissueReason | None, certs: bool, returned: bool
) -> None:
    """R-REI property: every input is a row with an amount or a ValueError, nothing else."""
    try:
        row = fee_row_for(
            procedure=procedure, reason=reason, with_certificates=certs, old_card_returned=returned
        )
    except ValueError:
        return
    assert row in DEFAULT_FEE_AMOUNTS
    # Only rows that charge depend on certificates; those charge more with them.
    if DEFAULT_FEE_AMOUNTS[row] > 0:
        other = fee_row_for(
            procedure=procedure,
            reason=reason,
            with_certificates=not certs,
            old_card_returned=returned,
        )
        assert (DEFAULT_FEE_AMOUNTS[row] > DEFAULT_FEE_AMOUNTS[other]) is certs


def test_r_rei_3_not_holder_fault_waiver_needs_approval() -> None:
    """R-REI-3: a waiver of the clerk's judgement records the reason and who approved it."""
    assert frozenset({FeeRow.REISSUE_NOT_HOLDER_FAULT}) == FEE_ROWS_NEEDING_APPROVAL
    assert required_evidence(R.NOT_HOLDER_FAULT) == {
        Evidence.WAIVER_REASON,
        Evidence.WAIVER_APPROVED_BY,
    }


# --- R-REI-1: evidence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "evidence"),
    [
        (R.LOST, {"police_report_no"}),
        (R.STOLEN, {"police_report_no"}),
        (R.DISASTER, {"disaster_certificate"}),
        (R.DAMAGED, {"damaged_card_surrendered"}),
        (R.NOT_HOLDER_FAULT, {"waiver_reason", "waiver_approved_by"}),
        (R.ENDORSEMENT_FULL, set()),
        (R.NUMBER_CHANGED, set()),
    ],
)
def test_r_rei_1_required_evidence(reason: ReissueReason, evidence: set[str]) -> None:
    """R-REI-1: police report for loss/theft, disaster certificate, damaged card surrendered."""
    assert required_evidence(reason) == evidence


def test_r_rei_1_no_police_report_when_lost_inside_the_home() -> None:
    """R-REI-1: the police report number is not required when the card was lost at home."""
    assert required_evidence(R.LOST, lost_at_home=True) == frozenset()
    assert "police_report_no" in required_evidence(R.LOST, lost_at_home=False)


@pytest.mark.parametrize("reason", [r for r in ReissueReason if r is not R.LOST])
def test_r_rei_1_lost_at_home_only_for_a_loss(reason: ReissueReason) -> None:
    """R-REI-1: "lost inside the home" only exempts a loss (a theft still needs the report)."""
    with pytest.raises(ValueError, match="紛失の場合のみ"):
        required_evidence(reason, lost_at_home=True)


def test_labels_are_complete() -> None:
    """Every procedure, reason and evidence item has a Japanese label."""
    assert set(PROCEDURE_LABELS) == set(Procedure)
    assert set(REISSUE_REASON_LABELS) == set(ReissueReason)
    assert set(EVIDENCE_LABELS) == set(Evidence)
    assert Procedure.REISSUE.label == "再交付"
    assert ReissueReason.LOST.label == "紛失"
    assert Evidence.DISASTER_CERTIFICATE.label == "罹災証明書"
    for enum_cls in (Procedure, ReissueReason, Evidence):
        for member in enum_cls:
            assert member.value == member.name.lower()


def test_every_row_cites_its_rule_without_the_explanation() -> None:
    """Payments and applications store the row; the citation a screen shows comes from it."""
    for row in FeeRow:
        assert row.citation.startswith("R-REI"), row
        assert ":" not in row.citation
        assert row.rule.startswith(row.citation + ":")
    assert FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS.citation == "R-REI table / R-REI-2"
