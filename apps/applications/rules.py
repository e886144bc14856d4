"""Pure rules about counter applications: kinds, the state machine, who may apply, what the
handover checklist needs, and what happens to the old card.

No Django, no database, no clock: every date is a parameter. Rule ids refer to
``docs/rules.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from apps.fees.rules import EXPRESS_STARTS_ON as FEE_EXPRESS_STARTS_ON
from apps.fees.rules import Procedure, ReissueReason
from apps.fees.rules import old_card_returned_for_fee as fee_old_card_returned
from apps.residents.rules import birthday_in_year, needs_legal_representative

# --- kinds ----------------------------------------------------------------------------------------


class ApplicationKind(enum.StrEnum):
    """One counter procedure (docs/architecture.md: one Application per procedure).

    To add a kind (endorsement, certificate issue, lock release, suspension lift): add the
    member, its label in ``APPLICATION_KIND_LABELS``, its fee procedure in
    ``KIND_PROCEDURES`` (or leave it out if it has no fee row), and, if it does not produce a
    new card, leave it out of ``CARD_KINDS``: its workflow then ends at ``RECEIVED → DONE``
    style states added to ``APPLICATION_TRANSITIONS``.
    """

    FIRST_ISSUE = "first_issue"
    RENEWAL = "renewal"
    REISSUE = "reissue"
    # Issue 10: changes on the card and its expiry; done at the counter at once.
    ADDRESS_CHANGE = "address_change"
    NAME_CHANGE = "name_change"
    FORMER_SURNAME = "former_surname"
    CONTINUED_USE = "continued_use"
    EXPIRY_CHANGE = "expiry_change"
    SPECIAL_EXTENSION = "special_extension"
    # Procedures on a card in use (no new card): see CARD_SERVICE_KINDS below.
    CERTIFICATE = "certificate"
    SUSPENSION_LIFT = "suspension_lift"
    LOCK_RELEASE = "lock_release"
    CARD_RETURN = "card_return"

    @property
    def label(self) -> str:
        return APPLICATION_KIND_LABELS[self]

    @property
    def procedure(self) -> Procedure | None:
        """The R-REI fee-table procedure of this kind, None if it has no fee row."""
        return KIND_PROCEDURES.get(self)

    @property
    def makes_card(self) -> bool:
        return self in CARD_KINDS


APPLICATION_KIND_LABELS: Final[dict[ApplicationKind, str]] = {
    ApplicationKind.FIRST_ISSUE: "新規交付申請",
    ApplicationKind.RENEWAL: "更新（有効期限）",
    ApplicationKind.REISSUE: "再交付申請",
    # Issue 10
    ApplicationKind.ADDRESS_CHANGE: "住所変更（追記）",
    ApplicationKind.NAME_CHANGE: "氏名変更（追記）",
    ApplicationKind.FORMER_SURNAME: "旧氏併記",
    ApplicationKind.CONTINUED_USE: "転入による継続利用",
    ApplicationKind.EXPIRY_CHANGE: "有効期限の変更（在留期間の更新等）",
    ApplicationKind.SPECIAL_EXTENSION: "有効期限の延長（特例期間）",
    # Procedures on a card in use.
    ApplicationKind.CERTIFICATE: "電子証明書の発行・更新・失効",
    ApplicationKind.SUSPENSION_LIFT: "一時停止の解除",
    ApplicationKind.LOCK_RELEASE: "暗証番号のロック解除・再設定",
    ApplicationKind.CARD_RETURN: "カードの返納・廃止",
}

KIND_PROCEDURES: Final[dict[ApplicationKind, Procedure]] = {
    ApplicationKind.FIRST_ISSUE: Procedure.FIRST_ISSUE,
    ApplicationKind.RENEWAL: Procedure.RENEWAL,
    ApplicationKind.REISSUE: Procedure.REISSUE,
    # Issue 10
    ApplicationKind.ADDRESS_CHANGE: Procedure.CARD_CHANGE,
    ApplicationKind.NAME_CHANGE: Procedure.CARD_CHANGE,
    ApplicationKind.FORMER_SURNAME: Procedure.CARD_CHANGE,
    ApplicationKind.CONTINUED_USE: Procedure.CARD_CHANGE,
    ApplicationKind.EXPIRY_CHANGE: Procedure.CARD_CHANGE,
    ApplicationKind.SPECIAL_EXTENSION: Procedure.CARD_CHANGE,
    ApplicationKind.CERTIFICATE: Procedure.CERTIFICATE_ISSUE,
}

# Kinds that order a new card from J-LIS and so go through the issuance pipeline (R-ISS-1).
# A resident has at most one open application of these kinds (a database constraint).
CARD_KINDS: Final = frozenset(
    {ApplicationKind.FIRST_ISSUE, ApplicationKind.RENEWAL, ApplicationKind.REISSUE}
)

# URL slugs for the clerk's screens (kinds are not personal data).
KIND_SLUGS: Final[dict[str, ApplicationKind]] = {
    "first-issue": ApplicationKind.FIRST_ISSUE,
    "renewal": ApplicationKind.RENEWAL,
    "reissue": ApplicationKind.REISSUE,
}

# Issue 10: the card-change procedures, each with a screen of its own
# (apps.applications.views_changes); the slugs are the URLs' last part.
CHANGE_KIND_SLUGS: Final[dict[str, ApplicationKind]] = {
    "address-change": ApplicationKind.ADDRESS_CHANGE,
    "name-change": ApplicationKind.NAME_CHANGE,
    "former-surname": ApplicationKind.FORMER_SURNAME,
    "continued-use": ApplicationKind.CONTINUED_USE,
    "expiry-change": ApplicationKind.EXPIRY_CHANGE,
    "special-extension": ApplicationKind.SPECIAL_EXTENSION,
}
CHANGE_KINDS: Final = frozenset(CHANGE_KIND_SLUGS.values())
# Procedures on a card the holder already has: no new card, so no pipeline. Each is received
# and done at the counter (RECEIVED → DONE), except the ordinary proxy's lock release, which
# waits in RECEIVED for the answered inquiry letter (R-PIN-1). The application's ``old_card``
# is the card the procedure is about. Their screens are their own (CARD_SERVICE_SLUGS), not
# the card application form.
CARD_SERVICE_KINDS: Final = frozenset(
    {
        ApplicationKind.CERTIFICATE,
        ApplicationKind.SUSPENSION_LIFT,
        ApplicationKind.LOCK_RELEASE,
        ApplicationKind.CARD_RETURN,
    }
)
CARD_SERVICE_SLUGS: Final[dict[str, ApplicationKind]] = {
    "certificate": ApplicationKind.CERTIFICATE,
    "suspension-lift": ApplicationKind.SUSPENSION_LIFT,
    "lock-release": ApplicationKind.LOCK_RELEASE,
    "card-return": ApplicationKind.CARD_RETURN,
}


# --- the state machine ------------------------------------------------------------------------


class ApplicationState(enum.StrEnum):
    """Where an application is in the issuance pipeline (R-ISS-1)."""

    RECEIVED = "received"
    ORDERED = "ordered"
    ARRIVED = "arrived"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"
    # Issue 10: a procedure done at the counter at once (R-CHG, R-VAL-7), and the
    # end of an express card posted by J-LIS instead of a handover (R-EXP-3).
    DONE = "done"
    POSTED = "posted"
    DELIVERED = "delivered"
    RETURNED_UNDELIVERED = "undelivered"  # fits the 16-character state column
    # R-STK-3: the card waited past the retention period and was destroyed.
    NOT_COLLECTED = "not_collected"

    @property
    def label(self) -> str:
        return APPLICATION_STATE_LABELS[self]


APPLICATION_STATE_LABELS: Final[dict[ApplicationState, str]] = {
    ApplicationState.RECEIVED: "受付（手数料・承認待ち）",
    ApplicationState.ORDERED: "発注済（J-LISで作成中）",
    ApplicationState.ARRIVED: "到着（交付待ち）",
    ApplicationState.HANDED_OVER: "交付済",
    ApplicationState.CANCELLED: "取下げ",
    ApplicationState.DONE: "完了",
    ApplicationState.POSTED: "J-LISが郵送済（配達待ち）",
    ApplicationState.DELIVERED: "配達済",
    ApplicationState.RETURNED_UNDELIVERED: "返戻（窓口で交付待ち）",
    ApplicationState.NOT_COLLECTED: "未受領（カード廃棄）",
}

# R-ISS-1: application → card made by J-LIS → arrives → pickup notice → handover.
# What must stay true: HANDED_OVER and CANCELLED are final; an arrived card can still be
# withdrawn (never collected, R-ISS-1), which voids it.
APPLICATION_TRANSITIONS: Final[dict[ApplicationState, frozenset[ApplicationState]]] = {
    # DONE: a card change, done in the step that receives it (issue 10).
    ApplicationState.RECEIVED: frozenset(
        {ApplicationState.ORDERED, ApplicationState.CANCELLED, ApplicationState.DONE}
    ),
    # POSTED: an express card that J-LIS posts to the holder (R-EXP-3).
    ApplicationState.ORDERED: frozenset(
        {ApplicationState.ARRIVED, ApplicationState.CANCELLED, ApplicationState.POSTED}
    ),
    # NOT_COLLECTED: the card waited past the retention period and was destroyed (R-STK-3).
    ApplicationState.ARRIVED: frozenset(
        {ApplicationState.HANDED_OVER, ApplicationState.CANCELLED, ApplicationState.NOT_COLLECTED}
    ),
    ApplicationState.HANDED_OVER: frozenset(),
    ApplicationState.CANCELLED: frozenset(),
    # Issue 10. A card change is done in the one step that receives it. An express
    # card is posted by J-LIS (R-EXP-3): delivered ends the application; a letter that came
    # back leaves the card at the city, handed over at the counter (or withdrawn).
    ApplicationState.DONE: frozenset(),
    # Withdrawn while in the post (the holder died or left): the card is voided.
    ApplicationState.POSTED: frozenset(
        {
            ApplicationState.DELIVERED,
            ApplicationState.RETURNED_UNDELIVERED,
            ApplicationState.CANCELLED,
        }
    ),
    ApplicationState.DELIVERED: frozenset(),
    ApplicationState.RETURNED_UNDELIVERED: frozenset(
        {ApplicationState.HANDED_OVER, ApplicationState.CANCELLED}
    ),
    ApplicationState.NOT_COLLECTED: frozenset(),
}

OPEN_STATES: Final = frozenset(
    {
        ApplicationState.RECEIVED,
        ApplicationState.ORDERED,
        ApplicationState.ARRIVED,
        ApplicationState.POSTED,
        ApplicationState.RETURNED_UNDELIVERED,
    }
)


def can_transition(from_state: ApplicationState, to_state: ApplicationState) -> bool:
    return to_state in APPLICATION_TRANSITIONS[from_state]


def state_after_fee_void(state: ApplicationState) -> ApplicationState:
    """Where an application goes when a supervisor voids its fee and it waits to be paid
    again (R-REI-3: no card without its fee).

    The one way back in the pipeline, and only through a void: a card still being made is
    cancelled with J-LIS, so an ORDERED application returns to RECEIVED and orders anew once
    paid; a card that has ARRIVED is held at the office (handover needs the fee settled), so
    the application stays where it is. Closed applications have no fee to void.
    """
    if state is ApplicationState.ORDERED:
        return ApplicationState.RECEIVED
    if state in (ApplicationState.RECEIVED, ApplicationState.ARRIVED):
        return state
    raise ValueError(f"「{state.label}」の申請の手数料は取り消せません。")


# --- who applies ----------------------------------------------------------------------------------


class ApplicantType(enum.StrEnum):
    """Who stands at the counter (glossary: LEGAL_REP, PROXY)."""

    HOLDER = "holder"
    LEGAL_REP = "legal_rep"
    PROXY = "proxy"

    @property
    def label(self) -> str:
        return APPLICANT_TYPE_LABELS[self]


APPLICANT_TYPE_LABELS: Final[dict[ApplicantType, str]] = {
    ApplicantType.HOLDER: "本人",
    ApplicantType.LEGAL_REP: "法定代理人",
    ApplicantType.PROXY: "任意代理人",
}


class IdentityDocument(enum.StrEnum):
    """Documents a clerk checks at the counter."""

    MY_NUMBER_CARD = "my_number_card"
    DRIVERS_LICENSE = "drivers_license"
    PASSPORT = "passport"
    RESIDENCE_CARD = "residence_card"
    DISABILITY_CERTIFICATE = "disability_certificate"
    HEALTH_INSURANCE = "health_insurance"
    PENSION_BOOK = "pension_book"
    PICKUP_NOTICE = "pickup_notice"
    OTHER = "other"
    LEGAL_REP_PROOF = "legal_rep_proof"
    PROXY_LETTER = "proxy_letter"

    @property
    def label(self) -> str:
        return IDENTITY_DOCUMENT_LABELS[self]


IDENTITY_DOCUMENT_LABELS: Final[dict[IdentityDocument, str]] = {
    IdentityDocument.MY_NUMBER_CARD: "マイナンバーカード（旧カード）",
    IdentityDocument.DRIVERS_LICENSE: "運転免許証",
    IdentityDocument.PASSPORT: "旅券（パスポート）",
    IdentityDocument.RESIDENCE_CARD: "在留カード・特別永住者証明書",
    IdentityDocument.DISABILITY_CERTIFICATE: "身体障害者手帳等（写真付き）",
    IdentityDocument.HEALTH_INSURANCE: "健康保険の資格確認書等",
    IdentityDocument.PENSION_BOOK: "年金手帳・年金証書等",
    IdentityDocument.PICKUP_NOTICE: "交付通知書",
    IdentityDocument.OTHER: "その他（写真なし）",
    IdentityDocument.LEGAL_REP_PROOF: "法定代理人の資格を証明する書類（戸籍謄本等）",
    IdentityDocument.PROXY_LETTER: "委任状",
}

# Policy (the guidebook's counter practice, not a docs/rules.md rule): one photo ID, or two
# documents without a photo.
PHOTO_IDS: Final = frozenset(
    {
        IdentityDocument.MY_NUMBER_CARD,
        IdentityDocument.DRIVERS_LICENSE,
        IdentityDocument.PASSPORT,
        IdentityDocument.RESIDENCE_CARD,
        IdentityDocument.DISABILITY_CERTIFICATE,
    }
)
NON_PHOTO_IDS: Final = frozenset(
    {
        IdentityDocument.HEALTH_INSURANCE,
        IdentityDocument.PENSION_BOOK,
        IdentityDocument.PICKUP_NOTICE,
        IdentityDocument.OTHER,
    }
)


def identity_problems(
    *, documents: Iterable[IdentityDocument], applicant_type: ApplicantType
) -> list[str]:
    """What is missing from the identity check of whoever stands at the counter.

    Policy: one photo ID or two without a photo. A legal representative also shows proof of
    authority, an ordinary proxy a letter of proxy (R-PIN-1 names the same papers).
    """
    docs = set(documents)
    problems: list[str] = []
    photo = len(docs & PHOTO_IDS)
    other = len(docs & NON_PHOTO_IDS)
    if photo == 0 and other < 2:
        problems.append(
            "本人確認書類が不足しています（写真付きの書類1点、または写真のない書類2点）。"
        )
    if applicant_type is ApplicantType.LEGAL_REP and IdentityDocument.LEGAL_REP_PROOF not in docs:
        problems.append("法定代理人の資格を証明する書類を確認してください。")
    if applicant_type is ApplicantType.PROXY and IdentityDocument.PROXY_LETTER not in docs:
        problems.append("任意代理人の場合は委任状を確認してください。")
    return problems


def applicant_problem(*, applicant_type: ApplicantType, birth_date: date, on: date) -> str | None:
    """R-ISS-2: for a holder under 15 the legal representative applies."""
    if needs_legal_representative(birth_date=birth_date, on=on) and (
        applicant_type is not ApplicantType.LEGAL_REP
    ):
        return "15歳未満の方の申請は法定代理人が行います。"
    return None


# --- the old card -----------------------------------------------------------------------------


class OldCardAction(enum.StrEnum):
    """What happens to the holder's old card when a renewal or reissue is received."""

    KEEP_UNTIL_HANDOVER = "keep_until_handover"
    MARK_LOST = "mark_lost"
    SURRENDER_NOW = "surrender_now"


def old_card_action_at_receipt(
    *, kind: ApplicationKind, reason: ReissueReason | None, old_card_returned: bool
) -> OldCardAction:
    """R-REI-1, R-REI-2, R-REI-4: the old card at the moment the application is received.

    - Loss or theft (and a renewal whose old card is lost): recorded LOST now; it stays unusable
      while the new card is made (R-REI-4) and its certificates end (R-CRT-5).
    - Damage: the damaged card is surrendered with the application (R-REI-1).
    - Disaster: surrendered if anything is left of it, otherwise recorded lost.
    - Renewal with the card, full endorsement field, changed number, not the holder's fault:
      the holder keeps the card in use and returns it at the handover (R-REI-2).
    """
    if kind is ApplicationKind.FIRST_ISSUE:
        raise ValueError("新規交付には旧カードがありません。")
    if kind is ApplicationKind.RENEWAL:
        return OldCardAction.KEEP_UNTIL_HANDOVER if old_card_returned else OldCardAction.MARK_LOST
    if reason in (ReissueReason.LOST, ReissueReason.STOLEN):
        return OldCardAction.MARK_LOST
    if reason is ReissueReason.DAMAGED:
        return OldCardAction.SURRENDER_NOW
    if reason is ReissueReason.DISASTER:
        return OldCardAction.SURRENDER_NOW if old_card_returned else OldCardAction.MARK_LOST
    return OldCardAction.KEEP_UNTIL_HANDOVER


def old_card_returned_for_fee(
    *, kind: ApplicationKind, reason: ReissueReason | None, old_card_returned: bool
) -> bool:
    """The ``old_card_returned`` flag as the fee table means it, for an application's kind
    (apps.fees.rules.old_card_returned_for_fee decides; R-REI table, R-REI-2)."""
    procedure = kind.procedure
    if procedure is None:
        return old_card_returned
    return fee_old_card_returned(
        procedure=procedure, reason=reason, old_card_returned=old_card_returned
    )


# --- the handover checklist -------------------------------------------------------------------


class NotificationCardStatus(enum.StrEnum):
    """The notification card at a first issue (R-ISS-3)."""

    RETURNED = "returned"
    NEVER_HELD = "never_held"
    LOST = "lost"

    @property
    def label(self) -> str:
        return NOTIFICATION_CARD_LABELS[self]


NOTIFICATION_CARD_LABELS: Final[dict[NotificationCardStatus, str]] = {
    NotificationCardStatus.RETURNED: "通知カードを返納した",
    NotificationCardStatus.NEVER_HELD: "通知カードの交付を受けていない（個人番号通知書）",
    NotificationCardStatus.LOST: "通知カードを紛失している（紛失の届出を受けた）",
}


@dataclass(frozen=True, slots=True)
class HandoverChecklist:
    """What the clerk ticked on the handover screen. PINs are never part of it (R-PIN-3)."""

    documents: frozenset[IdentityDocument]
    applicant_type: ApplicantType
    pins_set: bool
    legal_rep_present: bool
    notification_card: NotificationCardStatus | None
    old_card_returned: bool


def handover_problems(
    *,
    kind: ApplicationKind,
    checklist: HandoverChecklist,
    birth_date: date,
    on: date,
    old_card_in_hand: bool,
) -> list[str]:
    """Everything that stops the handover, in the order the clerk goes through it.

    ``old_card_in_hand`` means the holder still has the old card in use (kept until now).
    - identity of whoever collects (policy above);
    - R-ISS-2: under 15, the legal representative comes to the handover;
    - PINs set by the holder (for an under-15, by the representative, R-CRT-2), recorded as
      done only (R-PIN-3);
    - R-ISS-3: at a first issue, what happened to the notification card;
    - R-REI-2: at a renewal or reissue, the old card is returned before the new one is given.
    """
    problems = identity_problems(
        documents=checklist.documents, applicant_type=checklist.applicant_type
    )
    if needs_legal_representative(birth_date=birth_date, on=on) and not checklist.legal_rep_present:
        problems.append("15歳未満の方への交付には法定代理人の同行が必要です。")
    if not checklist.pins_set:
        problems.append("暗証番号の設定が済んでいません。")
    if kind is ApplicationKind.FIRST_ISSUE and checklist.notification_card is None:
        problems.append("通知カードの返納（または交付を受けていないこと）を確認してください。")
    if old_card_in_hand and not checklist.old_card_returned:
        problems.append("旧カードの返納を受けてから新しいカードを交付してください。")
    return problems


# --- cards waiting at the office (R-ISS-1) -----------------------------------------------------

# Bands for the "arrived but not collected" list; the last band is the one to chase.
AGE_BANDS: Final[tuple[tuple[int, str], ...]] = (
    (90, "90日以上"),
    (30, "30日以上"),
    (0, "30日未満"),
)


def days_waiting(*, arrived_on: date, today: date) -> int:
    """Days a card has waited at the office since it arrived (R-ISS-1)."""
    return (today - arrived_on).days


def age_band(days: int) -> str:
    for threshold, label in AGE_BANDS:
        if days >= threshold:
            return label
    return AGE_BANDS[-1][1]


# --- R-EXP: express issuance (issue 10) --------------------------------------------------

# R-EXP-1: in force from 2024-12-02; applied for within 30 days of the event (the day after it
# is day 1, so event + 30 is the last day).
EXPRESS_STARTS_ON: Final = FEE_EXPRESS_STARTS_ON
EXPRESS_WINDOW_DAYS: Final = 30


class ExpressReason(enum.StrEnum):
    """The listed cases in which a card may be made by express issuance (R-EXP-1)."""

    UNDER_ONE = "under_one"
    MOVED_IN_FROM_ABROAD = "moved_in_from_abroad"
    CARD_LOST = "card_lost"
    NEW_MID_LONG_TERM_RESIDENT = "new_mid_long_term_resident"
    NEWLY_REGISTERED = "newly_registered"
    NUMBER_CHANGED = "number_changed"
    CARD_UNUSABLE = "card_unusable"
    ENDORSEMENT_FULL = "endorsement_full"
    RELEASED_FROM_CUSTODY = "released_from_custody"

    @property
    def label(self) -> str:
        return EXPRESS_REASON_LABELS[self]

    @property
    def event_label(self) -> str:
        """What the event date is, as the form asks for it."""
        return EXPRESS_EVENT_LABELS[self]


EXPRESS_REASON_LABELS: Final[dict[ExpressReason, str]] = {
    ExpressReason.UNDER_ONE: "1歳未満のお子さん",
    ExpressReason.MOVED_IN_FROM_ABROAD: "国外からの転入",
    ExpressReason.CARD_LOST: "カードの紛失",
    ExpressReason.NEW_MID_LONG_TERM_RESIDENT: "新たに中長期在留者となった",
    ExpressReason.NEWLY_REGISTERED: "新たに住民票に記載された（戸籍のない方等）",
    ExpressReason.NUMBER_CHANGED: "個人番号・住民票コードの変更によるカードの失効",
    ExpressReason.CARD_UNUSABLE: "焼失・著しい破損・IC故障・市の誤った廃止",
    ExpressReason.ENDORSEMENT_FULL: "追記欄の余白不足",
    ExpressReason.RELEASED_FROM_CUSTODY: "刑事施設等からの出所",
}

EXPRESS_EVENT_LABELS: Final[dict[ExpressReason, str]] = {
    ExpressReason.UNDER_ONE: "出生日",
    ExpressReason.MOVED_IN_FROM_ABROAD: "転入届の日",
    ExpressReason.CARD_LOST: "紛失届の日",
    ExpressReason.NEW_MID_LONG_TERM_RESIDENT: "転入届の日",
    ExpressReason.NEWLY_REGISTERED: "本人確認書類を取得した日",
    ExpressReason.NUMBER_CHANGED: "変更請求の日",
    ExpressReason.CARD_UNUSABLE: "使えなくなった日",
    ExpressReason.ENDORSEMENT_FULL: "記載できなかった日",
    ExpressReason.RELEASED_FROM_CUSTODY: "本人確認書類を取得した日",
}

# Which procedure each case is (R-EXP-1): the kind, and for a reissue the reasons that fit.
EXPRESS_KINDS: Final[dict[ExpressReason, tuple[ApplicationKind, frozenset[ReissueReason]]]] = {
    ExpressReason.UNDER_ONE: (ApplicationKind.FIRST_ISSUE, frozenset()),
    ExpressReason.MOVED_IN_FROM_ABROAD: (ApplicationKind.FIRST_ISSUE, frozenset()),
    ExpressReason.NEW_MID_LONG_TERM_RESIDENT: (ApplicationKind.FIRST_ISSUE, frozenset()),
    ExpressReason.NEWLY_REGISTERED: (ApplicationKind.FIRST_ISSUE, frozenset()),
    ExpressReason.RELEASED_FROM_CUSTODY: (ApplicationKind.FIRST_ISSUE, frozenset()),
    ExpressReason.CARD_LOST: (
        ApplicationKind.REISSUE,
        frozenset({ReissueReason.LOST, ReissueReason.STOLEN}),
    ),
    ExpressReason.NUMBER_CHANGED: (
        ApplicationKind.REISSUE,
        frozenset({ReissueReason.NUMBER_CHANGED}),
    ),
    ExpressReason.CARD_UNUSABLE: (
        ApplicationKind.REISSUE,
        frozenset({ReissueReason.DISASTER, ReissueReason.DAMAGED, ReissueReason.NOT_HOLDER_FAULT}),
    ),
    ExpressReason.ENDORSEMENT_FULL: (
        ApplicationKind.REISSUE,
        frozenset({ReissueReason.ENDORSEMENT_FULL}),
    ),
}


def express_deadline(*, reason: ExpressReason, event_on: date, birth_date: date) -> date:
    """The last day an express application may be made (R-EXP-1).

    Under one: the day before the first birthday (a 29 February birth has its first birthday
    on 28 February, R-VAL-5, so the last day is 27 February); ``event_on`` is not used. Every
    other case: the event + 30 days (the day after the event is day 1).
    """
    if reason is ExpressReason.UNDER_ONE:
        return birthday_in_year(birth_date, birth_date.year + 1) - timedelta(days=1)
    return event_on + timedelta(days=EXPRESS_WINDOW_DAYS)


def express_problem(
    *,
    reason: ExpressReason,
    kind: ApplicationKind,
    reissue_reason: ReissueReason | None,
    event_on: date | None,
    birth_date: date,
    on: date,
) -> str | None:
    """Why an application received on ``on`` cannot be express (R-EXP-1), None when it can."""
    if on < EXPRESS_STARTS_ON:
        return "特急発行は令和6年12月2日から受け付けています。"
    expected_kind, reasons = EXPRESS_KINDS[reason]
    if kind is not expected_kind:
        return f"「{reason.label}」による特急発行は{expected_kind.label}として受け付けます。"
    if reasons and reissue_reason not in reasons:
        return f"再交付の理由が「{reason.label}」の特急発行の対象ではありません。"
    if reason is ExpressReason.UNDER_ONE:
        event_on = birth_date
    if event_on is None:
        return f"{reason.event_label}を入力してください。"
    if event_on > on:
        return f"{reason.event_label}が受付日より後になっています。"
    deadline = express_deadline(reason=reason, event_on=event_on, birth_date=birth_date)
    if on > deadline:
        if reason is ExpressReason.UNDER_ONE:
            return "1歳の誕生日の前日を過ぎたため、特急発行の対象ではありません。"
        return f"{reason.event_label}から30日を過ぎたため、特急発行の対象ではありません。"
    return None


# --- procedures on a card in use: return, cancellation, lock release --------------------------


class ReturnReason(enum.StrEnum):
    """Why a card is returned (返納) or cancelled by the city (廃止); either ends the card and
    its certificates with it (R-CRT-5)."""

    DEATH = "death"
    LEFT_JAPAN = "left_japan"
    VOLUNTARY = "voluntary"
    CITY_CANCEL = "city_cancel"

    @property
    def label(self) -> str:
        return RETURN_REASON_LABELS[self]

    @property
    def cancels(self) -> bool:
        """The city cancels the card (廃止, VOID) rather than the holder returning it."""
        return self is ReturnReason.CITY_CANCEL


RETURN_REASON_LABELS: Final[dict[ReturnReason, str]] = {
    ReturnReason.DEATH: "死亡による返納",
    ReturnReason.LEFT_JAPAN: "国外転出による返納",
    ReturnReason.VOLUNTARY: "本人の希望による返納",
    ReturnReason.CITY_CANCEL: "市による廃止",
}


def lock_release_needs_letter(applicant_type: ApplicantType) -> bool:
    """R-PIN-1: the holder, or a legal representative with proof of authority, has the lock
    released in one visit; an ordinary proxy needs two, tied by the inquiry-and-answer letter
    (照会書兼回答書) posted to the holder's registered address."""
    return applicant_type is ApplicantType.PROXY


def lock_release_problems(
    *,
    applicant_type: ApplicantType,
    documents: Iterable[IdentityDocument],
    card_presented: bool,
    pins: Iterable[object],
) -> list[str]:
    """What stops a lock release or PIN reset at the counter (R-PIN-1): the card itself, the
    identity check of whoever stands there (a legal representative's proof of authority, an
    ordinary proxy's letter of proxy, identity_problems) and at least one PIN chosen."""
    problems: list[str] = []
    if not card_presented:
        problems.append("ロック解除・暗証番号の再設定にはカードの持参が必要です。")
    problems.extend(identity_problems(documents=documents, applicant_type=applicant_type))
    if not list(pins):
        problems.append("ロック解除・再設定する暗証番号を選んでください。")
    return problems
