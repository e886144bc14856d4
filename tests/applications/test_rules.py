"""Tests of apps.applications.rules: the state machine, who applies, the handover checklist and
the old card (R-ISS-1…3, R-REI-1, R-REI-2, R-REI-4). Pure: no database."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from apps.applications.rules import (
    APPLICATION_KIND_LABELS,
    APPLICATION_STATE_LABELS,
    APPLICATION_TRANSITIONS,
    CARD_KINDS,
    CHANGE_KIND_SLUGS,
    CHANGE_KINDS,
    IDENTITY_DOCUMENT_LABELS,
    KIND_PROCEDURES,
    KIND_SLUGS,
    NON_PHOTO_IDS,
    OPEN_STATES,
    PHOTO_IDS,
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    HandoverChecklist,
    IdentityDocument,
    NotificationCardStatus,
    OldCardAction,
    age_band,
    applicant_problem,
    can_transition,
    days_waiting,
    handover_problems,
    identity_problems,
    old_card_action_at_receipt,
    old_card_returned_for_fee,
)
from apps.fees.rules import Procedure, ReissueReason

S = ApplicationState
K = ApplicationKind
R = ReissueReason
D = IdentityDocument


def test_r_iss_1_pipeline_order() -> None:
    """R-ISS-1: received → ordered → arrived → handed over, and nothing skips a stage."""
    path = [S.RECEIVED, S.ORDERED, S.ARRIVED, S.HANDED_OVER]
    for current, following in itertools.pairwise(path):
        assert can_transition(current, following)
    for index, current in enumerate(path):
        for later in path[index + 2 :]:
            assert not can_transition(current, later)
        for earlier in path[:index]:
            assert not can_transition(current, earlier)


def test_final_states_and_cancellation() -> None:
    assert APPLICATION_TRANSITIONS[S.HANDED_OVER] == frozenset()
    assert APPLICATION_TRANSITIONS[S.CANCELLED] == frozenset()
    for state in OPEN_STATES:
        assert can_transition(state, S.CANCELLED)
    assert set(APPLICATION_TRANSITIONS) == set(S)


def test_kinds_are_complete() -> None:
    """Every kind has a label, a fee procedure where it has a fee, and a URL slug; the card
    kinds make a card, the card changes of issue 10 (CHANGE_KIND_SLUGS) and the procedures on
    a card in use (CARD_SERVICE_KINDS) do not."""
    from apps.applications.rules import CARD_SERVICE_KINDS, CARD_SERVICE_SLUGS

    assert set(APPLICATION_KIND_LABELS) == set(K)
    assert set(KIND_SLUGS.values()) | set(CHANGE_KIND_SLUGS.values()) | set(
        CARD_SERVICE_SLUGS.values()
    ) == set(K)
    assert set(KIND_SLUGS.values()) == CARD_KINDS
    assert set(CARD_SERVICE_SLUGS.values()) == CARD_SERVICE_KINDS
    assert set(K) == CARD_KINDS | CHANGE_KINDS | CARD_SERVICE_KINDS
    assert not CARD_KINDS & CARD_SERVICE_KINDS
    assert not CHANGE_KINDS & CARD_SERVICE_KINDS
    assert not any(kind.makes_card for kind in CHANGE_KINDS | CARD_SERVICE_KINDS)
    assert all(KIND_PROCEDURES.get(kind) is not None for kind in CARD_KINDS | CHANGE_KINDS)
    assert set(APPLICATION_STATE_LABELS) == set(S)
    assert set(IDENTITY_DOCUMENT_LABELS) == set(D)
    assert KIND_PROCEDURES[K.REISSUE] is Procedure.REISSUE
    assert K.RENEWAL.procedure is Procedure.RENEWAL
    assert all(kind.makes_card for kind in CARD_KINDS)
    assert not PHOTO_IDS & NON_PHOTO_IDS


@pytest.mark.parametrize(
    ("documents", "ok"),
    [
        ({D.DRIVERS_LICENSE}, True),
        ({D.PASSPORT}, True),
        ({D.HEALTH_INSURANCE}, False),
        ({D.HEALTH_INSURANCE, D.PENSION_BOOK}, True),
        (set(), False),
        ({D.LEGAL_REP_PROOF}, False),
    ],
)
def test_identity_check_policy(documents: set[IdentityDocument], ok: bool) -> None:
    """Policy: one photo ID or two without a photo."""
    problems = identity_problems(documents=documents, applicant_type=ApplicantType.HOLDER)
    assert (problems == []) is ok


def test_representatives_show_their_authority() -> None:
    """A legal representative shows proof of authority, an ordinary proxy a letter of proxy."""
    base = {D.DRIVERS_LICENSE}
    assert identity_problems(documents=base, applicant_type=ApplicantType.LEGAL_REP)
    assert not identity_problems(
        documents=base | {D.LEGAL_REP_PROOF}, applicant_type=ApplicantType.LEGAL_REP
    )
    assert identity_problems(documents=base, applicant_type=ApplicantType.PROXY)
    assert not identity_problems(
        documents=base | {D.PROXY_LETTER}, applicant_type=ApplicantType.PROXY
    )


def test_r_iss_2_under_15_the_legal_representative_applies() -> None:
    """R-ISS-2: under 15 on the application day only the legal representative applies."""
    birth = date(2012, 6, 1)
    assert applicant_problem(
        applicant_type=ApplicantType.HOLDER, birth_date=birth, on=date(2027, 5, 31)
    )
    assert (
        applicant_problem(
            applicant_type=ApplicantType.LEGAL_REP, birth_date=birth, on=date(2027, 5, 31)
        )
        is None
    )
    # 15 on the birthday itself: the holder may apply.
    assert (
        applicant_problem(
            applicant_type=ApplicantType.HOLDER, birth_date=birth, on=date(2027, 6, 1)
        )
        is None
    )


@pytest.mark.parametrize(
    ("kind", "reason", "returned", "action"),
    [
        (K.RENEWAL, None, True, OldCardAction.KEEP_UNTIL_HANDOVER),
        (K.RENEWAL, None, False, OldCardAction.MARK_LOST),
        (K.REISSUE, R.LOST, False, OldCardAction.MARK_LOST),
        (K.REISSUE, R.STOLEN, False, OldCardAction.MARK_LOST),
        (K.REISSUE, R.DAMAGED, True, OldCardAction.SURRENDER_NOW),
        (K.REISSUE, R.DISASTER, True, OldCardAction.SURRENDER_NOW),
        (K.REISSUE, R.DISASTER, False, OldCardAction.MARK_LOST),
        (K.REISSUE, R.ENDORSEMENT_FULL, True, OldCardAction.KEEP_UNTIL_HANDOVER),
        (K.REISSUE, R.NUMBER_CHANGED, True, OldCardAction.KEEP_UNTIL_HANDOVER),
        (K.REISSUE, R.NOT_HOLDER_FAULT, True, OldCardAction.KEEP_UNTIL_HANDOVER),
    ],
)
def test_r_rei_1_r_rei_4_old_card_at_receipt(
    kind: ApplicationKind, reason: ReissueReason | None, returned: bool, action: OldCardAction
) -> None:
    """R-REI-1: damaged card surrendered; R-REI-4: a lost card stays unusable; R-REI-2: the
    others are returned at the handover."""
    assert (
        old_card_action_at_receipt(kind=kind, reason=reason, old_card_returned=returned) is action
    )


def test_first_issue_has_no_old_card() -> None:
    with pytest.raises(ValueError, match="旧カード"):
        old_card_action_at_receipt(kind=K.FIRST_ISSUE, reason=None, old_card_returned=True)


def test_r_rei_lost_or_stolen_card_is_never_returned_for_the_fee() -> None:
    """R-REI table: after loss or theft the card is gone, whatever the form said."""
    for reason in (R.LOST, R.STOLEN):
        assert not old_card_returned_for_fee(kind=K.REISSUE, reason=reason, old_card_returned=True)
    assert old_card_returned_for_fee(kind=K.REISSUE, reason=R.DAMAGED, old_card_returned=True)
    assert not old_card_returned_for_fee(kind=K.RENEWAL, reason=None, old_card_returned=False)


def _checklist(**overrides: object) -> HandoverChecklist:
    fields: dict[str, object] = {
        "documents": frozenset({D.DRIVERS_LICENSE}),
        "applicant_type": ApplicantType.HOLDER,
        "pins_set": True,
        "legal_rep_present": False,
        "notification_card": NotificationCardStatus.RETURNED,
        "old_card_returned": False,
    }
    fields.update(overrides)
    return HandoverChecklist(**fields)  # type: ignore[arg-type]


ADULT = date(1985, 10, 10)
ON = date(2026, 11, 27)


def test_handover_checklist_complete() -> None:
    problems = handover_problems(
        kind=K.FIRST_ISSUE, checklist=_checklist(), birth_date=ADULT, on=ON, old_card_in_hand=False
    )
    assert problems == []


def test_r_iss_3_first_issue_needs_the_notification_card_answer() -> None:
    """R-ISS-3: at a first issue the notification card is returned (or was never held)."""
    problems = handover_problems(
        kind=K.FIRST_ISSUE,
        checklist=_checklist(notification_card=None),
        birth_date=ADULT,
        on=ON,
        old_card_in_hand=False,
    )
    assert any("通知カードの返納" in problem for problem in problems)
    # A renewal has no notification card question.
    assert not handover_problems(
        kind=K.RENEWAL,
        checklist=_checklist(notification_card=None, old_card_returned=True),
        birth_date=ADULT,
        on=ON,
        old_card_in_hand=True,
    )


def test_r_rei_2_old_card_returned_before_handover() -> None:
    """R-REI-2: an old card still in the holder's hands is returned before the new one."""
    problems = handover_problems(
        kind=K.RENEWAL, checklist=_checklist(), birth_date=ADULT, on=ON, old_card_in_hand=True
    )
    assert any("旧カードの返納を受けてから" in problem for problem in problems)


def test_r_iss_2_legal_representative_present_for_under_15() -> None:
    """R-ISS-2: under 15 on the handover day, the legal representative comes too."""
    child = date(2015, 1, 1)
    absent = handover_problems(
        kind=K.FIRST_ISSUE, checklist=_checklist(), birth_date=child, on=ON, old_card_in_hand=False
    )
    assert any("法定代理人の同行" in problem for problem in absent)
    present = handover_problems(
        kind=K.FIRST_ISSUE,
        checklist=_checklist(legal_rep_present=True),
        birth_date=child,
        on=ON,
        old_card_in_hand=False,
    )
    assert present == []


def test_r_pin_3_pins_recorded_as_done_only() -> None:
    """R-PIN-3: the checklist has a 'PINs set' tick and no field that could hold a PIN."""
    problems = handover_problems(
        kind=K.FIRST_ISSUE,
        checklist=_checklist(pins_set=False),
        birth_date=ADULT,
        on=ON,
        old_card_in_hand=False,
    )
    assert any("暗証番号" in problem for problem in problems)
    assert not any("pin" in name and name != "pins_set" for name in HandoverChecklist.__slots__)


def test_r_iss_1_days_waiting_and_bands() -> None:
    """R-ISS-1: cards not collected are tracked by age."""
    assert days_waiting(arrived_on=date(2026, 11, 1), today=date(2026, 11, 27)) == 26
    assert age_band(0) == age_band(29) == "30日未満"
    assert age_band(30) == age_band(89) == "30日以上"
    assert age_band(90) == age_band(400) == "90日以上"
