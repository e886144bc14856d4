"""Pure rules about fees: which row of the R-REI table a procedure falls in, and what evidence
a reissue needs.

No Django, no database, no clock. Rule ids refer to ``docs/rules.md``. Amounts are
effective-dated data held in the fee schedule (R-REI-3); this module classifies, and
``DEFAULT_FEE_AMOUNTS`` only seeds that schedule.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import Final


class Procedure(enum.StrEnum):
    """The counter procedures that have a fee row (R-REI table)."""

    FIRST_ISSUE = "first_issue"
    RENEWAL = "renewal"
    REISSUE = "reissue"
    CERTIFICATE_ISSUE = "certificate_issue"
    # Issue 10: changes written on a card and its expiry (R-CHG, R-VAL-7), free.
    CARD_CHANGE = "card_change"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return PROCEDURE_LABELS[self]


PROCEDURE_LABELS: Final[dict[Procedure, str]] = {
    Procedure.FIRST_ISSUE: "新規交付",
    Procedure.RENEWAL: "更新",
    Procedure.REISSUE: "再交付",
    Procedure.CERTIFICATE_ISSUE: "電子証明書の発行・更新",
    Procedure.CARD_CHANGE: "券面記載事項の変更・有効期限の変更",
}


class ReissueReason(enum.StrEnum):
    """Why a card is reissued (R-REI table, R-REI-1)."""

    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    DISASTER = "disaster"
    ENDORSEMENT_FULL = "endorsement_full"
    NUMBER_CHANGED = "number_changed"
    NOT_HOLDER_FAULT = "not_holder_fault"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return REISSUE_REASON_LABELS[self]


REISSUE_REASON_LABELS: Final[dict[ReissueReason, str]] = {
    ReissueReason.LOST: "紛失",
    ReissueReason.STOLEN: "盗難",
    ReissueReason.DAMAGED: "破損・汚損（本人の責による）",
    ReissueReason.DISASTER: "災害（火災等）",
    ReissueReason.ENDORSEMENT_FULL: "追記欄の余白不足",
    ReissueReason.NUMBER_CHANGED: "個人番号・住民票コードの変更",
    ReissueReason.NOT_HOLDER_FAULT: "本人の責によらない事由（カード不良・市やJ-LISの誤り等）",
}


class FeeRow(enum.StrEnum):
    """One row of the R-REI fee table.

    Rows whose amount depends on whether e-certificates are issued are split into
    ``_WITH_CERTS`` / ``_NO_CERTS`` so that each row has exactly one amount in the schedule.
    """

    FIRST_ISSUE_FREE = "first_issue_free"
    RENEWAL_FREE = "renewal_free"
    RENEWAL_NOT_RETURNED_WITH_CERTS = "renewal_not_returned_with_certs"
    RENEWAL_NOT_RETURNED_NO_CERTS = "renewal_not_returned_no_certs"
    REISSUE_LOSS_WITH_CERTS = "reissue_loss_with_certs"
    REISSUE_LOSS_NO_CERTS = "reissue_loss_no_certs"
    REISSUE_DAMAGE_WITH_CERTS = "reissue_damage_with_certs"
    REISSUE_DAMAGE_NO_CERTS = "reissue_damage_no_certs"
    REISSUE_ENDORSEMENT_FULL = "reissue_endorsement_full"
    REISSUE_DISASTER = "reissue_disaster"
    REISSUE_NOT_HOLDER_FAULT = "reissue_not_holder_fault"
    REISSUE_NUMBER_CHANGED = "reissue_number_changed"
    CERTIFICATE_ONLY = "certificate_only"
    # Issue 10: changes on the card (R-CHG) and express issuance (R-EXP-2).
    CARD_CHANGE_FREE = "card_change_free"
    EXPRESS_WITH_CERTS = "express_with_certs"
    EXPRESS_NO_CERTS = "express_no_certs"

    @property
    def label(self) -> str:
        """The Japanese name shown on screens and receipts."""
        return FEE_ROW_LABELS[self]

    @property
    def rule(self) -> str:
        """Which row of the R-REI table this is, for developers and audit notes."""
        return FEE_ROW_RULES[self]

    @property
    def citation(self) -> str:
        """The rule ids of :attr:`rule` alone ("R-REI table / R-REI-2"), for a screen."""
        return self.rule.split(":", 1)[0]


FEE_ROW_LABELS: Final[dict[FeeRow, str]] = {
    FeeRow.FIRST_ISSUE_FREE: "新規交付",
    FeeRow.RENEWAL_FREE: "更新（旧カード返納）",
    FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS: "更新（旧カード返納なし・電子証明書あり）",
    FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS: "更新（旧カード返納なし・電子証明書なし）",
    FeeRow.REISSUE_LOSS_WITH_CERTS: "再交付（紛失・盗難・電子証明書あり）",
    FeeRow.REISSUE_LOSS_NO_CERTS: "再交付（紛失・盗難・電子証明書なし）",
    FeeRow.REISSUE_DAMAGE_WITH_CERTS: "再交付（破損・汚損・電子証明書あり）",
    FeeRow.REISSUE_DAMAGE_NO_CERTS: "再交付（破損・汚損・電子証明書なし）",
    FeeRow.REISSUE_ENDORSEMENT_FULL: "再交付（追記欄の余白不足）",
    FeeRow.REISSUE_DISASTER: "再交付（災害・罹災証明書あり）",
    FeeRow.REISSUE_NOT_HOLDER_FAULT: "再交付（本人の責によらない事由）",
    FeeRow.REISSUE_NUMBER_CHANGED: "再交付（個人番号・住民票コードの変更）",
    FeeRow.CERTIFICATE_ONLY: "電子証明書の発行・更新のみ",
    FeeRow.CARD_CHANGE_FREE: "券面記載事項の変更・有効期限の変更",
    FeeRow.EXPRESS_WITH_CERTS: "特急発行（紛失・盗難・破損・電子証明書あり）",
    FeeRow.EXPRESS_NO_CERTS: "特急発行（紛失・盗難・破損・電子証明書なし）",
}

FEE_ROW_RULES: Final[dict[FeeRow, str]] = {
    FeeRow.FIRST_ISSUE_FREE: "R-REI table: first issue (free).",
    FeeRow.RENEWAL_FREE: (
        "R-REI table: renewal on expiry, also after it expired or with < 3 months left, "
        "old card returned (free)."
    ),
    FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS: (
        "R-REI table / R-REI-2: renewal with the old card not returned (lost) is charged as a "
        "reissue; with e-certificates."
    ),
    FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS: (
        "R-REI table / R-REI-2: renewal with the old card not returned (lost) is charged as a "
        "reissue; without e-certificates."
    ),
    FeeRow.REISSUE_LOSS_WITH_CERTS: (
        "R-REI table: reissue after loss or theft (p.3), with e-certificates (card + certificates)."
    ),
    FeeRow.REISSUE_LOSS_NO_CERTS: (
        "R-REI table: reissue after loss or theft (p.3), without e-certificates (card only)."
    ),
    FeeRow.REISSUE_DAMAGE_WITH_CERTS: (
        "R-REI table: reissue after damage by the holder, with e-certificates."
    ),
    FeeRow.REISSUE_DAMAGE_NO_CERTS: (
        "R-REI table: reissue after damage by the holder, without e-certificates."
    ),
    FeeRow.REISSUE_ENDORSEMENT_FULL: (
        "R-REI table: reissue because the endorsement field is full (p.15, R-CHG-2) (free)."
    ),
    FeeRow.REISSUE_DISASTER: (
        "R-REI table: reissue after a disaster, with a disaster certificate (R-REI-1) (free)."
    ),
    FeeRow.REISSUE_NOT_HOLDER_FAULT: (
        "R-REI table / R-REI-3: reissue not due to the holder (card defect, city or J-LIS "
        "error), reason and approver recorded (free)."
    ),
    FeeRow.REISSUE_NUMBER_CHANGED: (
        "R-REI table: reissue after a change of My Number or resident-register code (free)."
    ),
    FeeRow.CERTIFICATE_ONLY: "R-REI table: e-certificate issued or renewed on its own (free).",
    FeeRow.CARD_CHANGE_FREE: (
        "R-REI table / R-CHG-1: a change written on the card (R-CHG-1, R-CHG-3, R-CHG-4) or "
        "its expiry changed (R-VAL-7); the table has no fee for it (free)."
    ),
    FeeRow.EXPRESS_WITH_CERTS: (
        "R-REI table / R-EXP-2: express issuance where the ordinary case charges the reissue "
        "fee, with e-certificates (card 1,800 + certificates 200)."
    ),
    FeeRow.EXPRESS_NO_CERTS: (
        "R-REI table / R-EXP-2: express issuance where the ordinary case charges the reissue "
        "fee, without e-certificates."
    ),
}

# The schedule as of the guidebook, in yen. Seed data for the effective-dated fee schedule
# (R-REI-3): code that charges a fee must read the schedule in force that day, not this dict.
DEFAULT_FEE_AMOUNTS: Final[dict[FeeRow, int]] = {
    FeeRow.FIRST_ISSUE_FREE: 0,
    FeeRow.RENEWAL_FREE: 0,
    FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS: 1000,
    FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS: 800,
    FeeRow.REISSUE_LOSS_WITH_CERTS: 1000,  # card 800 + certificates 200
    FeeRow.REISSUE_LOSS_NO_CERTS: 800,
    FeeRow.REISSUE_DAMAGE_WITH_CERTS: 1000,
    FeeRow.REISSUE_DAMAGE_NO_CERTS: 800,
    FeeRow.REISSUE_ENDORSEMENT_FULL: 0,
    FeeRow.REISSUE_DISASTER: 0,
    FeeRow.REISSUE_NOT_HOLDER_FAULT: 0,
    FeeRow.REISSUE_NUMBER_CHANGED: 0,
    FeeRow.CERTIFICATE_ONLY: 0,
    FeeRow.CARD_CHANGE_FREE: 0,
    FeeRow.EXPRESS_WITH_CERTS: 2000,  # card 1,800 + certificates 200 (R-EXP-2)
    FeeRow.EXPRESS_NO_CERTS: 1800,
}

# R-REI-3: a waiver that is the clerk's judgement needs a recorded reason and approver.
FEE_ROWS_NEEDING_APPROVAL: Final = frozenset({FeeRow.REISSUE_NOT_HOLDER_FAULT})

# Reasons where the old card is still in the holder's hands and must come back (R-REI-1 for
# damage, R-REI-2 for the rest). If it is lost after all, the reissue is a LOST one.
_REASONS_NEEDING_OLD_CARD: Final = frozenset(
    {
        ReissueReason.DAMAGED,
        ReissueReason.ENDORSEMENT_FULL,
        ReissueReason.NUMBER_CHANGED,
        ReissueReason.NOT_HOLDER_FAULT,
    }
)

_FREE_REISSUE_ROWS: Final[dict[ReissueReason, FeeRow]] = {
    ReissueReason.ENDORSEMENT_FULL: FeeRow.REISSUE_ENDORSEMENT_FULL,
    ReissueReason.DISASTER: FeeRow.REISSUE_DISASTER,
    ReissueReason.NOT_HOLDER_FAULT: FeeRow.REISSUE_NOT_HOLDER_FAULT,
    ReissueReason.NUMBER_CHANGED: FeeRow.REISSUE_NUMBER_CHANGED,
}


def fee_row_for(
    *,
    procedure: Procedure,
    reason: ReissueReason | None = None,
    with_certificates: bool = True,
    old_card_returned: bool = True,
    express: bool = False,
) -> FeeRow:
    """The R-REI table row for a procedure; ``express`` applies R-EXP-2 on top of it.

    Express: where the ordinary row charges the reissue fee (loss, theft, damage by the
    holder, a renewal whose card is lost), the express row (2,000 / 1,800 yen); every other
    express case is free, as its ordinary case is (R-EXP-2).
    """
    row = _ordinary_fee_row(
        procedure=procedure,
        reason=reason,
        with_certificates=with_certificates,
        old_card_returned=old_card_returned,
    )
    if not express:
        return row
    if procedure is Procedure.CARD_CHANGE or procedure is Procedure.CERTIFICATE_ISSUE:
        raise ValueError(f"「{procedure.label}」に特急発行はありません。")
    if row in _ORDINARY_PAID_ROWS:
        return FeeRow.EXPRESS_WITH_CERTS if with_certificates else FeeRow.EXPRESS_NO_CERTS
    return row


# R-EXP-1 / R-EXP-2: express issuance is in force from this day.
EXPRESS_STARTS_ON: Final = date(2024, 12, 2)

# The ordinary rows that charge the reissue fee (R-EXP-2 turns them into the express rows).
_ORDINARY_PAID_ROWS: Final = frozenset(
    {
        FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS,
        FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS,
        FeeRow.REISSUE_LOSS_WITH_CERTS,
        FeeRow.REISSUE_LOSS_NO_CERTS,
        FeeRow.REISSUE_DAMAGE_WITH_CERTS,
        FeeRow.REISSUE_DAMAGE_NO_CERTS,
    }
)


def _ordinary_fee_row(
    *,
    procedure: Procedure,
    reason: ReissueReason | None,
    with_certificates: bool,
    old_card_returned: bool,
) -> FeeRow:
    """The R-REI table row for a procedure (amounts come from the schedule, R-REI-3).

    ``old_card_returned`` means the old card is, or will be, handed back (R-REI-2); False means
    it is lost. ``with_certificates`` matters only for the paid rows.

    - FIRST_ISSUE and CERTIFICATE_ISSUE: free rows.
    - RENEWAL: free with the old card returned; otherwise charged as a reissue (R-REI-2).
    - REISSUE: needs a ``reason``. LOST/STOLEN ignore ``old_card_returned`` (the card is gone);
      DISASTER accepts either (the card may have burnt). DAMAGED, ENDORSEMENT_FULL,
      NUMBER_CHANGED and NOT_HOLDER_FAULT need the old card (R-REI-1, R-REI-2); without it the
      clerk must record a loss instead, so ``ValueError``.

    A ``reason`` for anything but REISSUE is a ``ValueError``: it would be silently ignored.
    """
    if procedure is not Procedure.REISSUE and reason is not None:
        raise ValueError("再交付以外の手続には再交付の理由を指定できません。")
    if procedure is Procedure.FIRST_ISSUE:
        return FeeRow.FIRST_ISSUE_FREE
    if procedure is Procedure.CERTIFICATE_ISSUE:
        return FeeRow.CERTIFICATE_ONLY
    if procedure is Procedure.CARD_CHANGE:
        return FeeRow.CARD_CHANGE_FREE
    if procedure is Procedure.RENEWAL:
        if old_card_returned:
            return FeeRow.RENEWAL_FREE
        return (
            FeeRow.RENEWAL_NOT_RETURNED_WITH_CERTS
            if with_certificates
            else FeeRow.RENEWAL_NOT_RETURNED_NO_CERTS
        )
    # Procedure.REISSUE
    if reason is None:
        raise ValueError("再交付の理由を選択してください。")
    if reason in _REASONS_NEEDING_OLD_CARD and not old_card_returned:
        raise ValueError(
            f"再交付の理由が「{reason.label}」の場合は旧カードの返納が必要です。"
            "旧カードを紛失している場合は、紛失による再交付として受け付けてください。"
        )
    if reason in (ReissueReason.LOST, ReissueReason.STOLEN):
        return FeeRow.REISSUE_LOSS_WITH_CERTS if with_certificates else FeeRow.REISSUE_LOSS_NO_CERTS
    if reason is ReissueReason.DAMAGED:
        return (
            FeeRow.REISSUE_DAMAGE_WITH_CERTS
            if with_certificates
            else FeeRow.REISSUE_DAMAGE_NO_CERTS
        )
    return _FREE_REISSUE_ROWS[reason]


def old_card_returned_for_fee(
    *, procedure: Procedure, reason: ReissueReason | None, old_card_returned: bool
) -> bool:
    """The ``old_card_returned`` flag as the fee table means it (R-REI table, R-REI-2).

    Lost or stolen cards are gone whatever the form says. The counter's application and the
    fee preview on its form both ask this, so they always quote the same row.
    """
    if procedure is Procedure.REISSUE and reason in (ReissueReason.LOST, ReissueReason.STOLEN):
        return False
    return old_card_returned


class Evidence(enum.StrEnum):
    """What the counter must record before a reissue is accepted (R-REI-1, R-REI-3).

    Values are the field names used in code (glossary: ``police_report_no``,
    ``disaster_certificate``).
    """

    POLICE_REPORT_NO = "police_report_no"
    DISASTER_CERTIFICATE = "disaster_certificate"
    DAMAGED_CARD_SURRENDERED = "damaged_card_surrendered"
    WAIVER_REASON = "waiver_reason"
    WAIVER_APPROVED_BY = "waiver_approved_by"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return EVIDENCE_LABELS[self]


EVIDENCE_LABELS: Final[dict[Evidence, str]] = {
    Evidence.POLICE_REPORT_NO: "遺失届・盗難届の受理番号",
    Evidence.DISASTER_CERTIFICATE: "罹災証明書",
    Evidence.DAMAGED_CARD_SURRENDERED: "破損・汚損したカードの返納",
    Evidence.WAIVER_REASON: "手数料を免除する理由",
    Evidence.WAIVER_APPROVED_BY: "免除を承認した管理者",
}


def required_evidence(reason: ReissueReason, *, lost_at_home: bool = False) -> frozenset[Evidence]:
    """What must be recorded for a reissue for ``reason`` (R-REI-1, R-REI-3).

    LOST: the police report receipt number, unless the card was lost inside the home. STOLEN:
    always the police report number. DISASTER: the disaster certificate. DAMAGED: the damaged
    card is surrendered. NOT_HOLDER_FAULT: the waiver reason and who approved it (R-REI-3).
    ENDORSEMENT_FULL and NUMBER_CHANGED: nothing beyond the returned old card (R-REI-2).

    ``lost_at_home`` for a reason other than LOST is a ``ValueError``: only a loss can happen
    "at home" in the sense of R-REI-1, and accepting it elsewhere would hide a form mistake.
    Members are ``str`` (``StrEnum``), so ``"police_report_no" in result`` works.
    """
    if lost_at_home and reason is not ReissueReason.LOST:
        raise ValueError("「自宅内での紛失」は再交付の理由が紛失の場合のみ指定できます。")
    if reason is ReissueReason.LOST:
        return frozenset() if lost_at_home else frozenset({Evidence.POLICE_REPORT_NO})
    if reason is ReissueReason.STOLEN:
        return frozenset({Evidence.POLICE_REPORT_NO})
    if reason is ReissueReason.DISASTER:
        return frozenset({Evidence.DISASTER_CERTIFICATE})
    if reason is ReissueReason.DAMAGED:
        return frozenset({Evidence.DAMAGED_CARD_SURRENDERED})
    if reason is ReissueReason.NOT_HOLDER_FAULT:
        return frozenset({Evidence.WAIVER_REASON, Evidence.WAIVER_APPROVED_BY})
    return frozenset()


# --- receipts: the fiscal year ------------------------------------------------------------------

# Japanese public bodies keep their books by fiscal year (会計年度, Local Autonomy Act art. 208):
# April to March. Receipt numbers run gapless within one office and one fiscal year.
FISCAL_YEAR_FIRST_MONTH: Final = 4


def fiscal_year_of(day: date) -> int:
    """The fiscal year (April–March) ``day`` belongs to, named by the year it starts in.

    2026-04-01 → 2026; 2027-03-31 → 2026; 2026-03-31 → 2025.
    """
    return day.year if day.month >= FISCAL_YEAR_FIRST_MONTH else day.year - 1


# --- corrections: voids, refunds and the daily close ---------------------------------------------


class VoidOutcome(enum.StrEnum):
    """What a void does to the application the payment settled (the supervisor chooses).

    Either way the money goes back to the payer (the receipt was wrong or is withdrawn); the
    outcome says whether the procedure goes on.
    """

    # The application waits for its fee again. A card still being made is cancelled with
    # J-LIS (the order is voided and placed again once the fee is taken); a card that has
    # already arrived is held: it cannot be handed over until the fee is settled.
    AWAIT_PAYMENT = "await_payment"
    # The money is refunded and the application is withdrawn; a card ordered or waiting for
    # it is voided.
    REFUND_CANCEL = "refund_cancel"

    @property
    def label(self) -> str:
        return VOID_OUTCOME_LABELS[self]

    @property
    def short_label(self) -> str:
        """For tables and lists, where the full label would wrap."""
        return VOID_OUTCOME_SHORT_LABELS[self]


VOID_OUTCOME_LABELS: Final[dict[VoidOutcome, str]] = {
    VoidOutcome.AWAIT_PAYMENT: (
        "申請を手数料の領収待ちに戻す（作成中のカードは発注を取り消し、到着済のカードは交付を保留）"
    ),
    VoidOutcome.REFUND_CANCEL: "返金して申請を取り下げる（発注済・到着済のカードは廃止）",
}
VOID_OUTCOME_SHORT_LABELS: Final[dict[VoidOutcome, str]] = {
    VoidOutcome.AWAIT_PAYMENT: "領収待ちに戻す",
    VoidOutcome.REFUND_CANCEL: "返金・申請取下げ",
}

# Card applications (and so fees) began on this day (the schedule's first start date).
FIRST_FEE_DAY: Final = date(2015, 10, 5)
# Amounts above this are a typing slip, not a fee of a city (the largest today is 1,000).
MAX_FEE_YEN: Final = 100_000

# Policy: a counter's day may be closed, and a close reopened, on the business day itself or
# up to this many days back (a correction after a weekend or a holiday), never in the future
# and never further back. Outside the window the books of that day are final.
CORRECTION_DAYS: Final = 7

# The largest cash count a counter can report for one day: far above any real day (the
# largest fee is 1,000 yen), far below the 32-bit column limit, so a typing slip is an error
# message, not a database error.
MAX_COUNTED_CASH_YEN: Final = 10_000_000


def correction_window(today: date) -> tuple[date, date]:
    """The business dates a close may be recorded or reopened for, counted from ``today``."""
    return today - timedelta(days=CORRECTION_DAYS), today


def business_date_problem(day: date, *, today: date) -> str | None:
    """Why ``day`` cannot be a close's business date (None when it can)."""
    first, last = correction_window(today)
    if day > last:
        return "未来の日付の日計は締められません。"
    if day < first:
        return f"日計は本日から{CORRECTION_DAYS}日前までの業務日について締め・再開できます。"
    return None
