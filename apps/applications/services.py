"""Every step of a counter application. Rule ids refer to ``docs/rules.md``.

Each step is one service (apps.core.service: one transaction whose history rows name the
member of staff and the step): it locks the application (and the resident on receipt), checks
its preconditions, calls the cards / certificates / fees services (never their models' save),
and leaves a history row through the pghistory triggers, labelled with the step's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    ExpressReason,
    HandoverChecklist,
    IdentityDocument,
    NotificationCardStatus,
    OldCardAction,
    applicant_problem,
    can_transition,
    express_problem,
    handover_problems,
    identity_problems,
    old_card_action_at_receipt,
    old_card_returned_for_fee,
    state_after_fee_void,
)
from apps.cards.models import Card
from apps.cards.rules import IN_HOLDERS_HANDS, CardState
from apps.cards.services import card_hand_over, card_order
from apps.certificates.services import card_end, pin_states_initialize
from apps.core.service import service
from apps.core.wareki import format_both
from apps.fees.models import FeeWaiver, Payment, PaymentMethod, PaymentVoid
from apps.fees.rules import Evidence, FeeRow, ReissueReason, VoidOutcome, required_evidence
from apps.fees.services import (
    FeeQuote,
    fee_quote,
    fee_waiver_approve,
    fee_waiver_request,
    payment_for_submission,
    payment_is_settled,
    payment_record,
    payment_void,
)
from apps.notices.rules import renewal_opens_on
from apps.residents.models import Resident

# Cards still being made or waiting at the office: a second order would make two cards.
_PENDING_CARD_STATES = (CardState.ORDERED, CardState.ARRIVED)


@dataclass(frozen=True)
class ApplicationInput:
    """What the clerk entered on the application form (or an integration posted)."""

    kind: ApplicationKind
    applicant_type: ApplicantType = ApplicantType.HOLDER
    applicant_name: str = ""
    documents: frozenset[IdentityDocument] = field(default_factory=frozenset)
    old_card_returned: bool = True
    reissue_reason: ReissueReason | None = None
    lost_at_home: bool = False
    police_report_no: str = ""
    disaster_certificate_no: str = ""
    damaged_card_surrendered: bool = False
    with_certificates: bool = True
    waiver_reason: str = ""
    former_surname_listed: bool = False
    # Issue 10: express issuance (R-EXP-1): the case and the day it counts from.
    express: bool = False
    express_reason: ExpressReason | None = None
    express_event_on: date | None = None


@dataclass(frozen=True)
class HandoverInput:
    """The handover checklist as ticked (R-ISS-2, R-ISS-3, R-REI-2). No PIN, ever (R-PIN-3)."""

    documents: frozenset[IdentityDocument]
    applicant_type: ApplicantType = ApplicantType.HOLDER
    pins_set: bool = False
    legal_rep_present: bool = False
    notification_card: NotificationCardStatus | None = None
    old_card_returned: bool = False
    # R-HND-3: the pickup notice's reference code as scanned or typed; without the notice,
    # ``extra_identity_check`` records that the clerk made the extra identity check.
    reference_code: str = ""
    extra_identity_check: bool = False
    # R-HND-4: the second identity document asked for when another resident shares the name.
    second_document: IdentityDocument | None = None


class HandoverGate(Protocol):
    """A check an app above this one makes before any handover (apps.custody: R-HND-1…5).

    Called inside the handover's transaction, after the application is locked; it answers
    the problems that stop the handover (an empty list lets it go on). This app cannot import
    the apps that know the card reads and the custody ledger, so they register here, once,
    from their AppConfig.ready (dependency inversion, not a signal: the call is explicit and
    its answer decides).
    """

    def __call__(
        self, *, acting_user: User, application: Application, data: HandoverInput, on: date
    ) -> list[str]: ...


_HANDOVER_GATES: list[HandoverGate] = []


def handover_gate_register(gate: HandoverGate) -> None:
    """Register a gate once (a second registration of the same function changes nothing)."""
    if gate not in _HANDOVER_GATES:
        _HANDOVER_GATES.append(gate)


def handover_gates() -> tuple[HandoverGate, ...]:
    return tuple(_HANDOVER_GATES)


# --- helpers ------------------------------------------------------------------------------------


def _require_staff_for(user: User, resident: Resident) -> None:
    policy.check(policy.resident_staff(user))
    policy.check(policy.same_office(user, resident), "この住民の手続はできません。")


def _locked(application: Application) -> Application:
    return _locked_pk(application.pk)


def _locked_pk(pk: uuid.UUID) -> Application:
    """Lock the application row, then load it with what the step decides on.

    Two statements on purpose: a SELECT … FOR UPDATE that joins other tables returns, after
    waiting for the lock, the locked row as committed but the joined rows (payment, waiver,
    cards) from before the wait. Two payments at once then both saw an unpaid fee. Loaded
    after the lock is held, every row is the committed one.
    """
    Application.objects.select_for_update().filter(pk=pk).values_list("pk").get()
    return Application.objects.select_related(
        "resident", "old_card", "new_card", "payment", "waiver"
    ).get(pk=pk)


def _check_move(application: Application, to_state: ApplicationState) -> None:
    if not can_transition(application.state_enum, to_state):
        raise ValidationError(
            f"申請の状態を「{application.state_enum.label}」から「{to_state.label}」に"
            "変更できません。"
        )


def _move(application: Application, to_state: ApplicationState) -> None:
    _check_move(application, to_state)
    application.state = to_state


def fee_settled(application: Application) -> bool:
    """The fee of the application is taken care of (R-REI-3).

    Zero-fee rows are settled unless they are a waiver that a supervisor must approve first;
    paid rows need a payment that has not been voided.
    """
    if application.fee_amount_yen == 0:
        return application.waiver is None or application.waiver.approved
    return payment_is_settled(application.payment)


def application_quote(application: Application) -> FeeQuote:
    """The quote the application was received with (amount fixed on the receipt day)."""
    schedule = application.fee_schedule
    if schedule is None:  # a kind without a fee row is never quoted (NO_FEE_KINDS)
        raise ValidationError("この手続には手数料がありません。")
    return FeeQuote(
        amount_yen=application.fee_amount_yen,
        rule=application.fee_rule,
        row=FeeRow(application.fee_row),
        schedule_id=schedule.id,
        schedule_starts_on=schedule.starts_on,
    )


def _old_card_for(
    *, resident: Resident, kind: ApplicationKind, on: date, old_card_returned: bool
) -> Card:
    """The card a renewal or reissue replaces, locked; refuses the wrong procedure."""
    cards = Card.objects.select_for_update().filter(resident=resident)
    if cards.filter(state__in=_PENDING_CARD_STATES).exists():
        raise ValidationError("作成中または交付待ちのカードがあるため、新たに申請できません。")
    candidates = [CardState.ACTIVE, CardState.SUSPENDED, CardState.LOST]
    if kind is ApplicationKind.RENEWAL:
        candidates.append(CardState.EXPIRED)
    old = cards.filter(state__in=candidates).order_by("-applied_on", "-created_at").first()
    if old is None:
        raise ValidationError(
            "更新・再交付の対象となるカードがありません。新規交付として受け付けてください。"
        )
    expired = old.state == CardState.EXPIRED or (old.expires_on is not None and old.expires_on < on)
    if kind is ApplicationKind.REISSUE and expired:
        raise ValidationError("有効期限が切れたカードは、再交付ではなく更新の手続をしてください。")
    if kind is ApplicationKind.RENEWAL:
        if old.expires_on is not None and not expired and on < renewal_opens_on(old.expires_on):
            opens = renewal_opens_on(old.expires_on)
            raise ValidationError(f"更新の申請は{format_both(opens)}から受け付けます。")
        if old.state == CardState.LOST and old_card_returned:
            raise ValidationError(
                {"old_card_returned": "旧カードは紛失の記録があります。返納なしとしてください。"}
            )
    return old


def _evidence_errors(data: ApplicationInput) -> dict[str, str]:
    """R-REI-1 (and R-REI-3's waiver reason): what the reason requires and is missing."""
    errors: dict[str, str] = {}
    if data.kind is ApplicationKind.RENEWAL:
        if data.reissue_reason is not None:
            raise ValidationError({"reissue_reason": "更新には再交付の理由を指定できません。"})
        # R-REI-2: a renewal whose old card is lost is handled as a loss, police report included.
        needed = (
            frozenset()
            if data.old_card_returned
            else required_evidence(ReissueReason.LOST, lost_at_home=data.lost_at_home)
        )
    elif data.kind is ApplicationKind.REISSUE:
        if data.reissue_reason is None:
            raise ValidationError({"reissue_reason": "再交付の理由を選択してください。"})
        try:
            needed = required_evidence(data.reissue_reason, lost_at_home=data.lost_at_home)
        except ValueError as exc:
            raise ValidationError({"lost_at_home": str(exc)}) from None
    else:
        if data.reissue_reason is not None:
            raise ValidationError({"reissue_reason": "新規交付には再交付の理由を指定できません。"})
        return errors
    if Evidence.POLICE_REPORT_NO in needed and not data.police_report_no.strip():
        errors["police_report_no"] = (
            "紛失・盗難の場合は警察の遺失届・盗難届の受理番号が必要です（自宅内での紛失を除く）。"
        )
    if Evidence.DISASTER_CERTIFICATE in needed and not data.disaster_certificate_no.strip():
        errors["disaster_certificate_no"] = "災害による再交付には罹災証明書が必要です。"
    if Evidence.DAMAGED_CARD_SURRENDERED in needed and not data.damaged_card_surrendered:
        errors["damaged_card_surrendered"] = (
            "破損による再交付では、破損したカードの返納を受けてください。"
        )
    if Evidence.WAIVER_REASON in needed and not data.waiver_reason.strip():
        errors["waiver_reason"] = (
            "本人の責によらない再交付は、手数料を免除する理由の記録が必要です。"
        )
    return errors


# --- receive ----------------------------------------------------------------------------------


@service
def application_receive(
    *, acting_user: User, resident: Resident, data: ApplicationInput, on: date | None = None
) -> Application:
    """Receive a first issue, renewal or reissue at the counter (R-ISS-1, R-REI).

    In this order: who applies and with what (R-ISS-2, documents, R-REI-1 evidence), the old
    card the procedure replaces (R-REI-2), the fee from the schedule in force (R-REI-3) and the
    waiver to approve, the application itself (one open card application per resident), what
    happens to the old card (lost → LOST, damaged → surrendered; R-REI-4, its certificates end
    with it, R-CRT-5) and, when nothing is owed, the order of the new card.
    """
    _require_staff_for(acting_user, resident)
    on = on or timezone.localdate()
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _check_applicant(resident=resident, data=data, on=on)
    old_card = _card_replaced(resident=resident, data=data, on=on)
    fee = _receipt_fee(
        acting_user=acting_user, resident=resident, data=data, old_card=old_card, on=on
    )
    application = _application_insert(
        _application_from(
            acting_user=acting_user, resident=resident, data=data, old_card=old_card, fee=fee, on=on
        )
    )
    if old_card is not None:
        _old_card_at_receipt(application=application, old_card=old_card, acting_user=acting_user)
    if fee_settled(application):
        application = application_order(acting_user=acting_user, application=application)
    return application


def _check_applicant(*, resident: Resident, data: ApplicationInput, on: date) -> None:
    """Who applies (R-ISS-2), their documents, the former surname and what the reason needs
    (R-REI-1): every problem at once, each on its field."""
    errors: dict[str, str] = {}
    problem = applicant_problem(
        applicant_type=data.applicant_type, birth_date=resident.birth_date, on=on
    )
    if problem:
        errors["applicant_type"] = problem
    if data.applicant_type is not ApplicantType.HOLDER and not data.applicant_name.strip():
        errors["applicant_name"] = "代理人の氏名を入力してください。"
    identity = identity_problems(documents=data.documents, applicant_type=data.applicant_type)
    if identity:
        errors["documents"] = " ".join(identity)
    if data.former_surname_listed and not resident.former_surname:
        errors["former_surname_listed"] = "旧氏が登録されていないため、旧氏併記はできません。"
    errors.update(_express_errors(resident=resident, data=data, on=on))
    errors.update(_evidence_errors(data))
    if errors:
        raise ValidationError(errors)


def _card_replaced(*, resident: Resident, data: ApplicationInput, on: date) -> Card | None:
    """The old card a renewal or reissue replaces (locked), or None for a first issue, which
    is refused while the resident has a card that makes it the wrong procedure."""
    if data.kind is not ApplicationKind.FIRST_ISSUE:
        return _old_card_for(
            resident=resident, kind=data.kind, on=on, old_card_returned=data.old_card_returned
        )
    existing = Card.objects.select_for_update().filter(resident=resident)
    if existing.filter(state__in=_PENDING_CARD_STATES).exists():
        raise ValidationError("作成中または交付待ちのカードがあるため、新たに申請できません。")
    if existing.filter(state__in=[CardState.ACTIVE, CardState.SUSPENDED]).exists():
        raise ValidationError(
            "有効なカードをお持ちです。更新または再交付として受け付けてください。"
        )
    if existing.filter(state=CardState.LOST).exists():
        raise ValidationError("紛失したカードの記録があります。再交付として受け付けてください。")
    if existing.filter(state=CardState.EXPIRED).exists():
        raise ValidationError("有効期限切れのカードがあります。更新として受け付けてください。")
    return None


def _express_errors(*, resident: Resident, data: ApplicationInput, on: date) -> dict[str, str]:
    """R-EXP-1: an express application names a listed case, within its window."""
    if not data.express:
        if data.express_reason is not None:
            return {"express_reason": "特急発行でない申請に特急発行の事由は指定できません。"}
        return {}
    if data.express_reason is None:
        return {"express_reason": "特急発行の事由を選んでください。"}
    problem = express_problem(
        reason=data.express_reason,
        kind=data.kind,
        reissue_reason=data.reissue_reason,
        event_on=data.express_event_on,
        birth_date=resident.birth_date,
        on=on,
    )
    return {"express_event_on": problem} if problem else {}


@dataclass(frozen=True)
class _ReceiptFee:
    """The fee a procedure is received with, and the facts about the old card it rests on."""

    quote: FeeQuote
    waiver: FeeWaiver | None
    old_card_returned: bool  # for the fee: False means the old card is lost (R-REI-2)
    loss: bool  # a loss is recorded: the police report (or "at home") is kept (R-REI-1)


def _receipt_fee(
    *,
    acting_user: User,
    resident: Resident,
    data: ApplicationInput,
    old_card: Card | None,
    on: date,
) -> _ReceiptFee:
    """The quote from the schedule in force on ``on`` (R-REI table, R-REI-2, R-REI-3) and,
    for a "not due to the holder" reissue, the waiver a supervisor must approve."""
    kind = data.kind
    reason = data.reissue_reason
    old_card_returned = (
        old_card_returned_for_fee(
            kind=kind, reason=reason, old_card_returned=data.old_card_returned
        )
        if old_card is not None
        else True
    )
    loss = reason in (ReissueReason.LOST, ReissueReason.STOLEN) or (
        kind is ApplicationKind.RENEWAL and not old_card_returned
    )
    procedure = kind.procedure
    if procedure is None:  # pragma: no cover - every kind here has a fee row
        raise ValidationError("この手続の手数料区分が定義されていません。")
    quote = fee_quote(
        procedure=procedure,
        reason=reason,
        with_certificates=data.with_certificates,
        old_card_returned=old_card_returned,
        on=on,
        express=data.express,
    )
    waiver = (
        fee_waiver_request(
            acting_user=acting_user,
            resident=resident,
            fee_row=quote.row,
            reason=data.waiver_reason,
        )
        if quote.needs_approval
        else None
    )
    return _ReceiptFee(quote=quote, waiver=waiver, old_card_returned=old_card_returned, loss=loss)


def _application_from(
    *,
    acting_user: User,
    resident: Resident,
    data: ApplicationInput,
    old_card: Card | None,
    fee: _ReceiptFee,
    on: date,
) -> Application:
    """The new application as received; only the evidence its reason asks for is kept."""
    reason = data.reissue_reason
    return Application(
        kind=data.kind,
        state=ApplicationState.RECEIVED,
        resident=resident,
        office_id=resident.office_id,
        counter_id=acting_user.counter_id,
        applicant_type=data.applicant_type,
        applicant_name=(
            "" if data.applicant_type is ApplicantType.HOLDER else data.applicant_name.strip()
        ),
        documents=sorted(data.documents),
        received_on=on,
        received_at=timezone.now(),
        received_by=acting_user,
        old_card=old_card,
        old_card_returned=fee.old_card_returned,
        reissue_reason=reason.value if reason else "",
        # Only the evidence the reason asks for is kept (R-REI-1).
        lost_at_home=data.lost_at_home if fee.loss else False,
        police_report_no=data.police_report_no.strip() if fee.loss else "",
        disaster_certificate_no=(
            data.disaster_certificate_no.strip() if reason is ReissueReason.DISASTER else ""
        ),
        damaged_card_surrendered=(
            data.damaged_card_surrendered if reason is ReissueReason.DAMAGED else False
        ),
        with_certificates=data.with_certificates,
        former_surname_listed=data.former_surname_listed,
        express=data.express,
        express_reason=data.express_reason.value if data.express and data.express_reason else "",
        express_event_on=(
            (
                resident.birth_date
                if data.express_reason is ExpressReason.UNDER_ONE
                else data.express_event_on
            )
            if data.express
            else None
        ),
        fee_row=fee.quote.row,
        fee_amount_yen=fee.quote.amount_yen,
        fee_schedule_id=fee.quote.schedule_id,
        waiver=fee.waiver,
    )


def _application_insert(application: Application) -> Application:
    """Insert; a second open card application of the resident is refused by the database."""
    try:
        with transaction.atomic():
            application.save(force_insert=True)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint != "application_one_open_card_per_resident":
            raise
        raise ValidationError("この住民には手続中のカードの申請があります。") from None
    return application


_REASON_TEXT = {
    ReissueReason.LOST: "紛失（再交付申請）",
    ReissueReason.STOLEN: "盗難（再交付申請）",
    ReissueReason.DISASTER: "災害（再交付申請）",
    ReissueReason.DAMAGED: "破損による返納（再交付申請）",
}


def _old_card_at_receipt(*, application: Application, old_card: Card, acting_user: User) -> None:
    action = old_card_action_at_receipt(
        kind=application.kind_enum,
        reason=application.reason_enum,
        old_card_returned=application.old_card_returned,
    )
    reason = application.reason_enum
    on = application.received_on
    if (
        old_card.state == CardState.LOST
        and application.kind_enum is ApplicationKind.REISSUE
        and reason not in (ReissueReason.LOST, ReissueReason.STOLEN, ReissueReason.DISASTER)
    ):
        raise ValidationError(
            "旧カードは紛失として記録されています。紛失による再交付として受け付けてください。"
        )
    if action is OldCardAction.MARK_LOST and old_card.state != CardState.LOST:
        text = _REASON_TEXT.get(reason, "紛失（更新申請）") if reason else "紛失（更新申請）"
        card_end(
            acting_user=acting_user, card=old_card, to_state=CardState.LOST, on=on, reason=text
        )
    elif action is OldCardAction.SURRENDER_NOW:
        text = _REASON_TEXT.get(reason, "返納（再交付申請）") if reason else "返納（再交付申請）"
        if old_card.state == CardState.LOST:
            raise ValidationError("紛失として記録されたカードは返納として受け付けられません。")
        card_end(
            acting_user=acting_user, card=old_card, to_state=CardState.RETURNED, on=on, reason=text
        )


# --- order, pay, approve ------------------------------------------------------------------------


@service
def application_order(*, acting_user: User, application: Application) -> Application:
    """Order the new card from J-LIS once the fee is settled (R-ISS-1, R-REI-3)."""
    application = _locked(application)
    _require_staff_for(acting_user, application.resident)
    _move(application, ApplicationState.ORDERED)
    if not fee_settled(application):
        raise ValidationError(
            "手数料の領収（または免除の承認）が済んでいないため、発注できません。"
        )
    pending = Card.objects.filter(
        resident_id=application.resident_id, state__in=_PENDING_CARD_STATES
    )
    if pending.exists():
        raise ValidationError("作成中または交付待ちのカードがあるため、発注できません。")
    application.new_card = card_order(
        acting_user=acting_user,
        resident=application.resident,
        applied_on=application.received_on,
        former_surname_listed=application.former_surname_listed,
    )
    application.ordered_at = timezone.now()
    application.save()
    return application


@dataclass(frozen=True)
class PaymentTaken:
    """The payment of a submission; ``created`` is False when a retried submission (same
    idempotency key) found the payment it had already taken."""

    payment: Payment
    created: bool


@service
def application_pay(
    *,
    acting_user: User,
    application: Application,
    method: PaymentMethod | str = PaymentMethod.CASH,
    on: date | None = None,
    idempotency_key: str = "",
) -> PaymentTaken:
    """Take the application's fee with a numbered receipt, then order the card if it waited.

    One fee, one payment (R-REI-3): the application is locked first and its payment read
    after the lock, so a double click or a second tab waits and then finds the fee paid; the
    database refuses a second payment that is not voided (``payment_one_settling_per_application``).
    A retried submission with the same ``idempotency_key`` gets the first payment back.
    """
    application = _locked(application)
    _require_staff_for(acting_user, application.resident)
    previous = payment_for_submission(acting_user=acting_user, idempotency_key=idempotency_key)
    if previous is not None:
        if previous.application_id != application.pk:
            raise ValidationError(
                {"idempotency_key": "この送信キーは別の申請の領収に使われています。"}
            )
        return PaymentTaken(payment=previous, created=False)
    if not application.is_open:
        raise ValidationError("この申請は手続が終了しています。")
    if application.fee_amount_yen == 0:
        raise ValidationError("この申請に手数料はかかりません。")
    if fee_settled(application):
        payment = application.payment
        label = f"（{payment.receipt_label}）" if payment is not None else ""
        raise ValidationError(f"この申請の手数料は領収済です{label}。")
    payment = payment_record(
        acting_user=acting_user,
        resident=application.resident,
        quote=application_quote(application),
        method=method,
        on=on,
        application_id=application.pk,
        idempotency_key=idempotency_key,
    )
    application.payment = payment
    application.save()
    if application.state_enum is ApplicationState.RECEIVED:
        application_order(acting_user=acting_user, application=application)
    return PaymentTaken(payment=payment, created=True)


@service
def application_payment_void(
    *,
    acting_user: User,
    payment: Payment,
    reason: str,
    outcome: VoidOutcome | str,
    on: date | None = None,
) -> PaymentVoid:
    """A supervisor voids a receipt and says what happens to its application (R-REI-3).

    ``AWAIT_PAYMENT``: the application waits for its fee again; a card still being made is
    cancelled with J-LIS (voided, ordered anew once paid), a card that has arrived is held
    (no handover until the fee is settled). ``REFUND_CANCEL``: the money is refunded and
    the application withdrawn, its card voided. Either way the payment leaves its day's
    cash (apps.fees.services.payment_void); a handed-over card's fee cannot be voided.
    """
    policy.check(policy.may_void_payments(acting_user), "監督者のみが行える操作です。")
    try:
        outcome = VoidOutcome(outcome)
    except ValueError:
        raise ValidationError({"outcome": "取消後の申請の扱いを選んでください。"}) from None
    on = on or timezone.localdate()
    application_id = (
        Payment.objects.filter(pk=payment.pk).values_list("application_id", flat=True).get()
    )
    # Lock order as in application_pay: the application, then (in payment_void) the
    # counter and the payment.
    application = _locked_pk(application_id) if application_id is not None else None
    if application is not None:
        policy.check(
            policy.same_office(acting_user, application), "他の庁舎の領収は取り消せません。"
        )
        if not application.is_open:
            raise ValidationError(
                f"「{application.state_enum.label}」の申請の領収は取り消せません。"
            )
    void = payment_void(acting_user=acting_user, payment=payment, reason=reason, outcome=outcome)
    if application is None or application.payment_id not in (None, payment.pk):
        # A receipt that settles no application (one a double click left behind, before
        # payments pointed at their application): the refund is all there is to do.
        return void
    if outcome is VoidOutcome.REFUND_CANCEL:
        _withdraw(
            acting_user=acting_user,
            application=application,
            reason=f"領収の取消により返金：{void.reason}",
            on=on,
        )
        return void
    to_state = state_after_fee_void(application.state_enum)
    if to_state is ApplicationState.RECEIVED and application.new_card is not None:
        # The card is not made yet: the order is cancelled with J-LIS, placed anew once paid.
        _void_new_card(
            acting_user=acting_user,
            application=application,
            on=on,
            reason="手数料の領収取消により発注を取消",
        )
        application.new_card = None
        application.ordered_at = None
    application.state = to_state
    application.save()
    return void


@service
def application_waiver_approve(*, acting_user: User, application: Application) -> Application:
    """A supervisor approves the "not due to the holder" waiver (R-REI-3); the card is ordered."""
    application = _locked(application)
    _require_staff_for(acting_user, application.resident)
    if application.waiver is None:
        raise ValidationError("この申請に承認を要する手数料の免除はありません。")
    if not application.is_open:
        raise ValidationError("この申請は手続が終了しています。")
    fee_waiver_approve(acting_user=acting_user, waiver=application.waiver)
    if application.state_enum is ApplicationState.RECEIVED:
        return application_order(acting_user=acting_user, application=application)
    return application


# --- handover -----------------------------------------------------------------------------------


@service
def application_hand_over(
    *, acting_user: User, application: Application, data: HandoverInput, on: date | None = None
) -> Application:
    """Hand the new card over after the checklist (R-ISS-1…3, R-REI-2, R-PIN-3).

    The old card, if the holder kept it in use, is returned first (→ RETURNED, certificates end,
    R-CRT-5); a lost one is voided now that its replacement is in the holder's hands, so it can
    never be un-suspended again (R-SUS-2). Then the new card becomes the current one.
    """
    application = _locked(application)
    resident = application.resident
    _require_staff_for(acting_user, resident)
    on = on or timezone.localdate()
    _move(application, ApplicationState.HANDED_OVER)
    new_card = application.new_card
    if new_card is None or new_card.state != CardState.ARRIVED:
        raise ValidationError("交付できるカードが到着していません。")
    if not fee_settled(application):
        raise ValidationError("手数料の領収（または免除の承認）が済んでいません。")
    old_card = (
        Card.objects.select_for_update().get(pk=application.old_card_id)
        if application.old_card_id
        else None
    )
    old_in_hand = old_card is not None and old_card.state in IN_HOLDERS_HANDS
    kind = application.kind_enum
    problems = handover_problems(
        kind=kind,
        checklist=HandoverChecklist(
            documents=data.documents,
            applicant_type=data.applicant_type,
            pins_set=data.pins_set,
            legal_rep_present=data.legal_rep_present,
            notification_card=data.notification_card,
            old_card_returned=data.old_card_returned,
        ),
        birth_date=resident.birth_date,
        on=on,
        old_card_in_hand=old_in_hand,
    )
    if not _HANDOVER_GATES:
        # Without the interlock (R-HND-1…5) no card leaves the office: a deployment that
        # left apps.custody out fails closed, not open.
        raise ValidationError("交付前の照合の仕組みが設定されていないため、交付できません。")
    for gate in _HANDOVER_GATES:
        problems += gate(acting_user=acting_user, application=application, data=data, on=on)
    if problems:
        raise ValidationError(problems)

    if old_card is not None and old_in_hand:
        card_end(
            acting_user=acting_user,
            card=old_card,
            to_state=CardState.RETURNED,
            on=on,
            reason=f"{kind.label}による返納",
        )
    elif old_card is not None and old_card.state == CardState.LOST:
        card_end(
            acting_user=acting_user,
            card=old_card,
            to_state=CardState.VOID,
            on=on,
            reason=f"{kind.label}により廃止",
        )
    card_hand_over(acting_user=acting_user, card=new_card, on=on)
    pin_states_initialize(acting_user=acting_user, card=new_card)

    application.handed_over_at = timezone.now()
    application.handed_over_by = acting_user
    application.handover_applicant_type = data.applicant_type
    application.handover_documents = sorted(data.documents)
    application.pins_set = data.pins_set
    application.legal_rep_present = data.legal_rep_present
    application.notification_card = data.notification_card.value if data.notification_card else ""
    application.old_card_returned_at_handover = old_in_hand and data.old_card_returned
    application.save()
    return application


# --- not collected (R-STK-3) ----------------------------------------------------------------------


@service
def application_close_not_collected(
    *, acting_user: User, application: Application, on: date
) -> Application:
    """Close an application whose card was never collected: the card is destroyed (R-STK-3).

    Called by apps.custody's destruction service, which has already checked the retention
    period and the two members of staff; here the application and the card move together.
    """
    application = _locked(application)
    _require_staff_for(acting_user, application.resident)
    _move(application, ApplicationState.NOT_COLLECTED)
    new_card = application.new_card
    if new_card is None or new_card.state != CardState.ARRIVED:
        raise ValidationError("廃棄できるのは到着して未交付のカードだけです。")
    card_end(
        acting_user=acting_user,
        card=new_card,
        to_state=CardState.DESTROYED,
        on=on,
        reason="未受領のため保管期間経過後に廃棄",
    )
    application.save()
    return application


# --- cancel ---------------------------------------------------------------------------------------


@service
def application_cancel(*, acting_user: User, application: Application, reason: str) -> Application:
    """Withdraw an open application; a card already ordered or waiting is voided.

    A fee already taken must first be voided by a supervisor (the receipt stays, R-REI-3 keeps
    who decided); voiding it with "refund and withdraw" does both at once. The old card keeps
    whatever happened to it at receipt: a loss is still a loss.
    """
    application = _locked(application)
    _require_staff_for(acting_user, application.resident)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "取下げの理由を入力してください。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "取下げの理由は200文字以内で入力してください。"})
    _check_move(application, ApplicationState.CANCELLED)
    if Payment.objects.filter(application=application, voided=False).exists() or (
        payment_is_settled(application.payment)
    ):
        raise ValidationError(
            "領収済の手数料があります。先に監督者が領収を取り消してから取り下げてください。"
        )
    return _withdraw(
        acting_user=acting_user, application=application, reason=reason, on=timezone.localdate()
    )


def _withdraw(*, acting_user: User, application: Application, reason: str, on: date) -> Application:
    """Close a locked, open application as withdrawn; its pending card is voided."""
    _move(application, ApplicationState.CANCELLED)
    _void_new_card(acting_user=acting_user, application=application, on=on, reason="申請の取下げ")
    application.cancelled_at = timezone.now()
    application.cancelled_by = acting_user
    application.cancel_reason = reason[:200]
    application.save()
    return application


def _void_new_card(*, acting_user: User, application: Application, on: date, reason: str) -> None:
    """Void the application's new card if it is still being made or waiting at the office."""
    new_card = application.new_card
    if new_card is not None and new_card.state in _PENDING_CARD_STATES:
        card_end(
            acting_user=acting_user, card=new_card, to_state=CardState.VOID, on=on, reason=reason
        )


def documents_from(values: Iterable[str]) -> frozenset[IdentityDocument]:
    """Parse document codes from a form or an API body (unknown codes are a ValidationError)."""
    try:
        return frozenset(IdentityDocument(value) for value in values)
    except ValueError:
        raise ValidationError({"documents": "確認書類の指定が正しくありません。"}) from None
