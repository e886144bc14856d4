"""Pure rules about the card: how long it is valid, expiry changes, its states.

No Django, no database, no clock: every date is a parameter. Rule ids refer to
``docs/rules.md``.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from apps.residents.rules import (
    Residence,
    ResidenceCategory,
    age_on,
    birthday_in_year,
)

# --- calendar helpers ---------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """``d`` moved by whole calendar months, clamped to the end of a shorter month.

    2024-05-31 − 3 months → 2024-02-29; 2025-05-31 − 3 months → 2025-02-28;
    2024-12-31 + 2 months → 2025-02-28. Used by R-VAL-7 ② (two months after expiry) and by
    R-NOT-1 (three months before expiry).
    """
    month_index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def nth_birthday_after(*, birth_date: date, after: date, n: int) -> date:
    """The holder's ``n``-th birthday strictly after ``after`` (R-VAL-4, R-VAL-5).

    "After" excludes ``after`` itself (R-VAL-4): counted from a birthday, the first birthday
    is a full year later; counted from the day before a birthday, that birthday is the first.
    Birthdays of a 29 February birth fall on 28 February in non-leap years (R-VAL-5).
    """
    if n < 1:
        raise ValueError("何回目の誕生日かは1以上で指定してください。")
    if after < birth_date:
        raise ValueError("起算日が生年月日より前です。")
    first_year = after.year if birthday_in_year(birth_date, after.year) > after else after.year + 1
    return birthday_in_year(birth_date, first_year + n - 1)


# --- R-VAL-2 / R-VAL-3: effective-dated validity rule sets --------------------------------------


@dataclass(frozen=True, slots=True)
class ValidityRuleSet:
    """One generation of the national validity rule (R-VAL-2, R-VAL-3).

    A holder aged ``adult_age`` or more (see :func:`age_line_age`) gets a card valid to the
    ``adult_years``-th birthday after the issue date, a younger one to the ``minor_years``-th.
    A later change of the law is a new rule set with its own ``starts_on``, never an edit of
    an old one (R-VAL-3), because cards applied for under the old rules keep them.
    """

    starts_on: date
    adult_age: int
    adult_years: int
    minor_years: int


# Sorted by ``starts_on``; chosen by the date the application was received (R-VAL-3).
VALIDITY_RULE_SETS: Final[tuple[ValidityRuleSet, ...]] = (
    # Card applications opened with the numbering provisions of the My Number Act
    # (2015-10-05); age line 20 until the civil-law age of majority became 18 (p.4 ※1).
    ValidityRuleSet(starts_on=date(2015, 10, 5), adult_age=20, adult_years=10, minor_years=5),
    # Applications received from 2022-04-01: age line 18 (R-VAL-2, R-VAL-3).
    ValidityRuleSet(starts_on=date(2022, 4, 1), adult_age=18, adult_years=10, minor_years=5),
)


def rule_set_for(
    applied_on: date, rule_sets: tuple[ValidityRuleSet, ...] = VALIDITY_RULE_SETS
) -> ValidityRuleSet:
    """The rule set in force for an application received on ``applied_on`` (R-VAL-3).

    The last rule set whose ``starts_on`` is on or before ``applied_on``: an application
    received on 2022-03-31 uses the age line 20, one received on 2022-04-01 the age line 18.
    ``rule_sets`` must be sorted by ``starts_on``.
    """
    chosen: ValidityRuleSet | None = None
    for rule_set in rule_sets:
        if rule_set.starts_on > applied_on:
            break
        chosen = rule_set
    if chosen is None:
        raise ValueError(
            f"{applied_on.isoformat()}に受け付けた申請に適用できる有効期間の規則がありません。"
        )
    return chosen


def age_line_age(*, birth_date: date, issued_on: date, applied_on: date) -> int:
    """The age compared with the rule set's age line (R-VAL-2 policy).

    Policy: the age on the issue date (R-VAL-1: the day J-LIS made the card), as the guidebook
    speaks of "age at issuance". Some cities judge at application instead; to switch, change
    this one function to use ``applied_on``. Both dates are parameters so that callers do not
    change when the policy does.
    """
    del applied_on  # not used under the current policy; kept so the policy can be switched here
    return age_on(birth_date=birth_date, on=issued_on)


def _check_card_dates(*, birth_date: date, issued_on: date, applied_on: date) -> None:
    if applied_on < birth_date:
        raise ValueError("申請日が生年月日より前です。")
    if issued_on < applied_on:
        raise ValueError("発行日が申請日より前です。")


def national_card_expiry(*, birth_date: date, issued_on: date, applied_on: date) -> date:
    """Expiry under the national rule: R-VAL-2 with the rule set of R-VAL-3.

    ``issued_on`` is the day J-LIS made the card, not the handover day (R-VAL-1). Adults (by
    :func:`age_line_age`) get the 10th birthday after the issue date, minors the 5th
    (R-VAL-2), "after" excluding the issue date (R-VAL-4), 29 February births handled by
    R-VAL-5.
    """
    _check_card_dates(birth_date=birth_date, issued_on=issued_on, applied_on=applied_on)
    rules = rule_set_for(applied_on)
    age = age_line_age(birth_date=birth_date, issued_on=issued_on, applied_on=applied_on)
    birthdays = rules.adult_years if age >= rules.adult_age else rules.minor_years
    return nth_birthday_after(birth_date=birth_date, after=issued_on, n=birthdays)


# R-VAL-6: "until the day 60 days after the birth or loss (first day not counted)".
TRANSITIONAL_STAY_DAYS: Final = 60


def residence_card_limit(residence: Residence) -> date | None:
    """The residence's own end date for the card, or None if it follows R-VAL-2 (R-VAL-6).

    Mid-to-long-term, temporary-refuge and provisional-stay: the end of that period.
    Transitional stay by birth or by loss of Japanese nationality: the event date + 60 days
    (the first day is not counted). Permanent, Highly Skilled Professional (ii) and special
    permanent residents: None.
    """
    # Residence.__post_init__ guarantees that period_ends_on is set exactly for the period
    # categories and event_on exactly for the transitional ones, so the fields decide.
    if residence.period_ends_on is not None:
        return residence.period_ends_on
    if residence.event_on is not None:
        return residence.event_on + timedelta(days=TRANSITIONAL_STAY_DAYS)
    return None


def card_expiry(
    *,
    birth_date: date,
    issued_on: date,
    applied_on: date,
    residence: Residence | None = None,
) -> date:
    """The last day the card is valid (R-VAL-1 … R-VAL-6).

    ``residence`` None means a Japanese national. ``issued_on`` is the day J-LIS made the card
    (R-VAL-1); ``applied_on`` chooses the rule set (R-VAL-3). National rule: 10th birthday
    after the issue date for adults, 5th for minors (R-VAL-2, R-VAL-4, R-VAL-5). Foreign
    residents (R-VAL-6): the categories that follow the national rule get it; the others get
    their own end date (:func:`residence_card_limit`), never later than the national date.

    Raises ``ValueError`` for impossible input: an issue date before the application, an
    application before birth, a transitional-by-birth event date that is not the birth date,
    or a residence that had already ended before the card was made.
    """
    national = national_card_expiry(
        birth_date=birth_date, issued_on=issued_on, applied_on=applied_on
    )
    if residence is None:
        return national
    if (
        residence.category is ResidenceCategory.TRANSITIONAL_BIRTH
        and residence.event_on != birth_date
    ):
        raise ValueError("経過滞在者(出生)の出生日が生年月日と一致しません。")
    limit = residence_card_limit(residence)
    if limit is None:
        return national
    if limit < issued_on:
        # J-LIS does not make a card for a stay that has already ended; this is a data error.
        raise ValueError("在留期間（許可期間）の満了日がカードの発行日より前です。")
    return min(limit, national)


# --- R-VAL-7: foreign residents' expiry change and special-period extension ---------------------


def expiry_change(
    *,
    birth_date: date,
    original_issued_on: date,
    applied_on: date,
    current_expires_on: date,
    requested_on: date,
    new_period_ends_on: date,
) -> date:
    """New expiry after a foreign resident's renewal or change of status (R-VAL-7 ①).

    The expiry moves to the new end of stay, capped at the national date (R-VAL-2) counted
    from the card's original issue date with the rule set of its original application
    (``applied_on``, R-VAL-3). The new date may be earlier than the current expiry (a change
    of status can shorten the stay): the rule says "moves to", not "extends to".

    Policy: "on application made before the card expires" accepts a request on the expiry
    date itself, because the card is valid through that day; a request on a later day raises
    ``ValueError``. A new end of stay before the request day is also rejected. The
    e-certificates are not extended (R-VAL-7); their own expiry stays as it was.
    """
    if requested_on > current_expires_on:
        raise ValueError(
            "有効期限を過ぎたカードの有効期限変更はできません"
            "（有効期限の当日までに申請が必要です）。"
        )
    if new_period_ends_on < requested_on:
        raise ValueError("新しい在留期間の満了日が申請日より前です。")
    national = national_card_expiry(
        birth_date=birth_date, issued_on=original_issued_on, applied_on=applied_on
    )
    return min(new_period_ends_on, national)


# R-VAL-7 ②: the special period lasts at most two months after the original expiry.
SPECIAL_PERIOD_MAX_MONTHS: Final = 2


def special_period_extension(
    *,
    current_expires_on: date,
    special_period_ends_on: date,
    proof_of_pending_application: bool,
    already_extended: bool,
) -> date:
    """New expiry for a holder in the special period of stay (R-VAL-7 ②).

    Allowed once, with proof that the immigration application is pending, to the end of the
    special period, which is at most two calendar months after the original expiry (month
    ends clamped: 2024-12-31 → 2025-02-28). Returns ``special_period_ends_on``; raises
    ``ValueError`` when a condition is not met. The e-certificates are not extended (R-VAL-7).
    """
    if already_extended:
        raise ValueError("特例期間による有効期限の延長は1回限りです。")
    if not proof_of_pending_application:
        raise ValueError("在留期間の更新・変更を申請中であることの確認書類が必要です。")
    if special_period_ends_on <= current_expires_on:
        raise ValueError("特例期間の末日が現在の有効期限より後ではありません。")
    latest = add_months(current_expires_on, SPECIAL_PERIOD_MAX_MONTHS)
    if special_period_ends_on > latest:
        raise ValueError(f"特例期間の末日は有効期限の2か月後（{latest.isoformat()}）までです。")
    return special_period_ends_on


# --- card states --------------------------------------------------------------------------------


class CardState(enum.StrEnum):
    """Where a card is in its life (R-ISS-1, R-SUS, R-REI, R-CRT-5)."""

    ORDERED = "ordered"
    ARRIVED = "arrived"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    VOID = "void"
    RETURNED = "returned"
    LOST = "lost"
    # Never collected and destroyed after the retention period (R-STK-3): final, and the
    # database refuses any move out of it (apps.cards.models.Card's trigger).
    DESTROYED = "destroyed"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return CARD_STATE_LABELS[self]


CARD_STATE_LABELS: Final[dict[CardState, str]] = {
    CardState.ORDERED: "発注済",
    CardState.ARRIVED: "到着(未交付)",
    CardState.ACTIVE: "交付済(有効)",
    CardState.SUSPENDED: "一時停止中",
    CardState.EXPIRED: "有効期限切れ",
    CardState.VOID: "廃止",
    CardState.RETURNED: "返納済",
    CardState.LOST: "紛失",
    CardState.DESTROYED: "廃棄(未受領)",
}

# Legal moves. What must stay true:
# - The only way back into use from a suspension is SUSPENDED → ACTIVE, which is the counter
#   un-suspension in person with the card and ID (R-SUS-2). A LOST card that turns up goes to
#   SUSPENDED first (it is still suspended, R-SUS-1, and may be sitting at the police or the
#   city), never straight to ACTIVE, so R-SUS-2's checks live on one edge.
# - VOID (cancellation filed: reissue, move-out, death, not collected) and RETURNED are final:
#   a cancelled card cannot be un-suspended (R-SUS-2). The physical surrender of a voided card
#   is not a state change.
# - A suspended card can still reach its expiry date (SUSPENDED → EXPIRED); a lost one stays
#   LOST until it is found or cancelled.
# - EXPIRED → RETURNED is the old card handed back at renewal (R-REI-2, R-ISS-3).
CARD_TRANSITIONS: Final[dict[CardState, frozenset[CardState]]] = {
    # J-LIS could not make it, or the application was withdrawn.
    CardState.ORDERED: frozenset({CardState.ARRIVED, CardState.VOID}),
    # Handed over, or never collected and destroyed after the retention period (R-ISS-1).
    CardState.ARRIVED: frozenset({CardState.ACTIVE, CardState.VOID, CardState.DESTROYED}),
    CardState.ACTIVE: frozenset(
        {
            CardState.SUSPENDED,
            CardState.EXPIRED,
            CardState.VOID,
            CardState.RETURNED,
            CardState.LOST,
        }
    ),
    CardState.SUSPENDED: frozenset(
        {
            CardState.ACTIVE,
            CardState.EXPIRED,
            CardState.VOID,
            CardState.RETURNED,
            CardState.LOST,
        }
    ),
    CardState.LOST: frozenset({CardState.SUSPENDED, CardState.VOID}),
    CardState.EXPIRED: frozenset({CardState.RETURNED}),
    CardState.VOID: frozenset(),
    CardState.RETURNED: frozenset(),
    # R-STK-3: a destroyed card can never become active (nor anything else).
    CardState.DESTROYED: frozenset(),
}


# States that end a card's life: they record the day and the reason, and the card's
# e-certificates end with it (R-CRT-5, apps.certificates.services.card_end).
END_STATES: Final = frozenset(
    {CardState.VOID, CardState.RETURNED, CardState.LOST, CardState.EXPIRED, CardState.DESTROYED}
)


# The holder still has the card in hand: at a renewal or reissue it must come back before the
# new one is handed over (R-REI-2), and the handover checklist asks for it.
IN_HOLDERS_HANDS: Final = frozenset({CardState.ACTIVE, CardState.SUSPENDED, CardState.EXPIRED})


def can_transition(from_state: CardState, to_state: CardState) -> bool:
    """True if a card may move from ``from_state`` to ``to_state`` (see ``CARD_TRANSITIONS``)."""
    return to_state in CARD_TRANSITIONS[from_state]


# --- R-CHG-1 … R-CHG-3: what is written in the endorsement field --------------------------------


class EndorsementKind(enum.StrEnum):
    """What an entry of the endorsement field (追記欄) records (R-CHG-1, R-CHG-3, R-CHG-4)."""

    ADDRESS = "address"
    NAME = "name"
    FORMER_SURNAME = "former_surname"
    CONTINUED_USE = "continued_use"

    @property
    def label(self) -> str:
        """The Japanese heading the clerk writes before the new value."""
        return ENDORSEMENT_KIND_LABELS[self]

    @property
    def revokes_signing(self) -> bool:
        """Every change written on the card changes what SIGNING carries (R-CRT-4)."""
        return True


ENDORSEMENT_KIND_LABELS: Final[dict[EndorsementKind, str]] = {
    EndorsementKind.ADDRESS: "住所変更",
    EndorsementKind.NAME: "氏名変更",
    EndorsementKind.FORMER_SURNAME: "旧氏併記",
    EndorsementKind.CONTINUED_USE: "転入（継続利用）",
}

# R-CHG-3: former-surname co-listing is available from this day.
FORMER_SURNAME_STARTS_ON: Final = date(2019, 11, 5)


def endorsement_room(*, used: int, capacity: int) -> int:
    """Entries still free in the endorsement field (R-CHG-2; the capacity is a setting)."""
    if capacity < 1:
        raise ValueError("追記欄の記載可能件数は1以上で設定してください。")
    if used < 0:
        raise ValueError("追記欄の記載件数が負になっています。")
    return max(capacity - used, 0)


def endorsement_field_full(*, used: int, capacity: int) -> bool:
    """True when nothing more can be written: the holder may have a free reissue (R-CHG-2)."""
    return endorsement_room(used=used, capacity=capacity) == 0


def name_as_card_shows(*, family_name: str, given_name: str, former_surname: str = "") -> str:
    """The name as the card prints it; with the former surname "番号 [旧氏] 花子" (R-CHG-3)."""
    if former_surname:
        return f"{family_name} [{former_surname}] {given_name}"
    return f"{family_name} {given_name}"


def former_surname_problem(*, former_surname: str, on: date) -> str | None:
    """Why the former surname cannot be listed on ``on`` (R-CHG-3), None when it can."""
    if on < FORMER_SURNAME_STARTS_ON:
        return "旧氏併記は令和元年11月5日から受け付けています。"
    if not former_surname.strip():
        return "旧氏が住民票に記載されていないため、旧氏併記はできません。"
    return None


# --- R-CHG-4: continued use after moving in from another city -----------------------------------

# Counting (policy, as cities publish it): the day after the notice is day 1.
CONTINUED_USE_DAYS: Final = 90
MOVE_IN_NOTICE_DAYS: Final = 14
AFTER_PLANNED_MOVE_OUT_DAYS: Final = 30
# The clerks' list of cards that still need registering looks this far ahead.
CONTINUED_USE_DUE_WINDOW_DAYS: Final = 14


class ContinuedUseVoid(enum.StrEnum):
    """Why a card brought from another city can no longer be continued (R-CHG-4)."""

    LATE_MOVE_IN_NOTICE = "late_move_in_notice"
    NOT_REGISTERED_IN_TIME = "not_registered_in_time"
    MOVED_OUT_AGAIN = "moved_out_again"

    @property
    def label(self) -> str:
        return CONTINUED_USE_VOID_LABELS[self]


CONTINUED_USE_VOID_LABELS: Final[dict[ContinuedUseVoid, str]] = {
    ContinuedUseVoid.LATE_MOVE_IN_NOTICE: (
        "転入届が転入日から14日、または転出予定日から30日を過ぎて出されたため"
    ),
    ContinuedUseVoid.NOT_REGISTERED_IN_TIME: "転入届の日から90日以内に継続利用の手続がなかったため",
    ContinuedUseVoid.MOVED_OUT_AGAIN: "継続利用の手続の前に再び転出したため",
}


def continued_use_deadline(*, move_in_notice_on: date) -> date:
    """The last day to register continued use: the notice day + 90 (R-CHG-4).

    The day after the notice is day 1, so a notice on 2026-01-10 may be followed by the
    registration up to and including 2026-04-10.
    """
    return move_in_notice_on + timedelta(days=CONTINUED_USE_DAYS)


def move_in_notice_late(
    *, moved_in_on: date, move_in_notice_on: date, planned_move_out_on: date
) -> bool:
    """The notice came after moved-in + 14 or after planned move-out + 30 (R-CHG-4)."""
    return move_in_notice_on > moved_in_on + timedelta(
        days=MOVE_IN_NOTICE_DAYS
    ) or move_in_notice_on > planned_move_out_on + timedelta(days=AFTER_PLANNED_MOVE_OUT_DAYS)


def continued_use_void_reason(
    *,
    moved_in_on: date,
    move_in_notice_on: date,
    planned_move_out_on: date,
    registered_on: date | None,
    on: date,
    moved_out_again_on: date | None = None,
) -> ContinuedUseVoid | None:
    """Why the card is void on day ``on``, or None while it may still be (or has been)
    continued (R-CHG-4).

    - The notice itself after moved-in + 14, or after planned move-out + 30: void from the
      notice, whatever happens next (LATE_MOVE_IN_NOTICE).
    - Registered on or before the notice + 90 (and not after moving out again): continued,
      None for good; a later move-out is an ordinary one.
    - Moved out again before registering, on or before ``on`` and before the deadline passed:
      MOVED_OUT_AGAIN.
    - Not registered and ``on`` is past the notice + 90 (or registered too late):
      NOT_REGISTERED_IN_TIME.

    Impossible input (a notice before moving in, a registration or a second move-out before
    the notice) is a ``ValueError``.
    """
    if move_in_notice_on < moved_in_on:
        raise ValueError("転入届の日が転入日より前です。")
    if registered_on is not None and registered_on < move_in_notice_on:
        raise ValueError("継続利用の手続の日が転入届の日より前です。")
    if moved_out_again_on is not None and moved_out_again_on < moved_in_on:
        raise ValueError("再転出の日が転入日より前です。")
    if move_in_notice_late(
        moved_in_on=moved_in_on,
        move_in_notice_on=move_in_notice_on,
        planned_move_out_on=planned_move_out_on,
    ):
        return ContinuedUseVoid.LATE_MOVE_IN_NOTICE
    deadline = continued_use_deadline(move_in_notice_on=move_in_notice_on)
    moved_out = (
        moved_out_again_on if moved_out_again_on is not None and moved_out_again_on <= on else None
    )
    if registered_on is not None and registered_on <= on:
        if moved_out is not None and moved_out <= registered_on:
            return ContinuedUseVoid.MOVED_OUT_AGAIN
        if registered_on <= deadline:
            return None
        return ContinuedUseVoid.NOT_REGISTERED_IN_TIME
    if moved_out is not None and moved_out <= deadline:
        return ContinuedUseVoid.MOVED_OUT_AGAIN
    if on > deadline:
        return ContinuedUseVoid.NOT_REGISTERED_IN_TIME
    return None


def continued_use_card_problem(
    *, state: CardState, expires_on: date | None, on: date
) -> str | None:
    """An expired, suspended or cancelled card cannot be continued (R-CHG-4)."""
    if state is CardState.SUSPENDED:
        return "一時停止中のカードは継続利用できません。"
    if state is not CardState.ACTIVE:
        return f"「{state.label}」のカードは継続利用できません。"
    if expires_on is not None and expires_on < on:
        return "有効期限が切れたカードは継続利用できません。"
    return None


# --- R-EXP-4: photo-less cards for children under one -------------------------------------------

# R-EXP-4 applies to cards applied for from this day (the express rules came into force then).
PHOTO_LESS_UNDER_ONE_FROM: Final = date(2024, 12, 2)


def photo_less(*, birth_date: date, applied_on: date) -> bool:
    """A card applied for from 2024-12-02 by a child under one has no photo (R-EXP-4)."""
    return (
        applied_on >= PHOTO_LESS_UNDER_ONE_FROM and age_on(birth_date=birth_date, on=applied_on) < 1
    )


# --- suspension and lifting (R-SUS-1, R-SUS-2) -------------------------------------------------


def lift_refusal(state: CardState) -> str | None:
    """Why a card in ``state`` cannot be un-suspended at the counter, or None (R-SUS-2).

    Only a suspended card, or a card reported lost that was found (it goes back into use only
    through lifting: LOST → SUSPENDED → ACTIVE), can be lifted. A card whose cancellation
    (廃止) was filed is VOID and stays so; returned and expired cards are ended too.
    """
    if state in (CardState.SUSPENDED, CardState.LOST):
        return None
    if state is CardState.VOID:
        return "廃止の届出があったカードは、一時停止を解除できません。"
    if state is CardState.ACTIVE:
        return "このカードは一時停止されていません。"
    return f"「{state.label}」のカードは一時停止を解除できません。"


class SuspensionReason(enum.StrEnum):
    """Why the call centre suspended the card (R-SUS-1)."""

    LOST = "lost"
    STOLEN = "stolen"
    OTHER = "other"

    @property
    def label(self) -> str:
        return SUSPENSION_REASON_LABELS[self]


SUSPENSION_REASON_LABELS: Final[dict[SuspensionReason, str]] = {
    SuspensionReason.LOST: "紛失",
    SuspensionReason.STOLEN: "盗難",
    SuspensionReason.OTHER: "その他",
}

# The call centre's record id: its own key, the idempotency key of the feed (R-SUS-1).
FEED_RECORD_ID_MAX = 64
_FEED_RECORD_ID_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)


def feed_record_id_problem(record_id: str) -> str | None:
    """The call centre's record id is 1–64 characters of A–Z, a–z, 0–9, '-' and '_'."""
    if not 1 <= len(record_id) <= FEED_RECORD_ID_MAX:
        return f"受付番号は1〜{FEED_RECORD_ID_MAX}文字です。"
    if not set(record_id) <= _FEED_RECORD_ID_CHARS:
        return "受付番号に使えない文字があります（英数字と - _ のみ）。"
    return None


def feed_record_fingerprint(
    *, record_id: str, resident_code: str, reported_at: datetime, reason: SuspensionReason
) -> str:
    """What a record says, as one string: the same record id with another fingerprint is a
    conflicting record (refused and reported), the same fingerprint a repeat (R-SUS-1)."""
    return "|".join(
        [record_id, resident_code, reported_at.astimezone(UTC).isoformat(), reason.value]
    )
