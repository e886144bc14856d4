"""Counter procedures that change a card in use (issue 10): address and name changes
and the former surname written in the endorsement field (R-CHG-1…3), continued use after
moving in (R-CHG-4), and a foreign resident's expiry change or special extension (R-VAL-7).

Each is one service (apps.core.service: one transaction whose history rows name the member of
staff): it locks the resident, then the card, checks everything, changes the resident's
record, writes the card (endorsement, chip, expiry), revokes SIGNING where the change touches
what it carries (R-CRT-4) and records the Application, done at once (no fee: the free row of
the schedule in force, R-REI-3). Rule ids refer to ``docs/rules.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    IdentityDocument,
    applicant_problem,
    identity_problems,
)
from apps.applications.services import _application_insert, _require_staff_for
from apps.cards.models import Card, ContinuedUse, Endorsement, ExpiryChange, ExpiryChangeKind
from apps.cards.rules import (
    CardState,
    ContinuedUseVoid,
    EndorsementKind,
    continued_use_card_problem,
    continued_use_void_reason,
    expiry_change,
    former_surname_problem,
    name_as_card_shows,
    special_period_extension,
)
from apps.cards.services import (
    card_change_expiry,
    card_endorse,
    card_list_former_surname,
    continued_use_close,
    continued_use_open,
)
from apps.certificates.services import card_end, signing_revoke_for_change
from apps.core.service import SystemActor, service
from apps.core.wareki import format_wareki
from apps.fees.rules import Procedure
from apps.fees.services import fee_quote
from apps.residents.models import Resident
from apps.residents.services import (
    resident_change_address,
    resident_change_name,
    resident_change_period_of_stay,
    resident_set_former_surname,
)

logger = logging.getLogger(__name__)

# The daily job that voids cards whose continued use was not registered in time (R-CHG-4).
CONTINUED_USE_JOB = SystemActor("applications.continued_use_void_due")


@dataclass(frozen=True)
class Applicant:
    """Who stands at the counter and what they showed (the same checks as a card application)."""

    applicant_type: ApplicantType = ApplicantType.HOLDER
    applicant_name: str = ""
    documents: frozenset[IdentityDocument] = field(default_factory=frozenset)


@dataclass(frozen=True)
class AddressChangeInput:
    applicant: Applicant
    address: str
    postal_code: str = ""


@dataclass(frozen=True)
class NameChangeInput:
    applicant: Applicant
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str


@dataclass(frozen=True)
class FormerSurnameInput:
    applicant: Applicant
    # Empty: the former surname already on the register is listed.
    former_surname: str = ""
    former_surname_kana: str = ""


@dataclass(frozen=True)
class ContinuedUseInput:
    """The move-in (planned move-out, moved in, notice) and the new address (R-CHG-4).

    ``register_now`` False records the move-in only: the holder comes back with the card
    within the 90 days (the clerks' list shows who is due).
    """

    applicant: Applicant
    planned_move_out_on: date | None = None
    moved_in_on: date | None = None
    move_in_notice_on: date | None = None
    address: str = ""
    postal_code: str = ""
    register_now: bool = True


@dataclass(frozen=True)
class ExpiryChangeInput:
    """R-VAL-7: the new end of stay (①) or of the special period (②) and the proof seen."""

    applicant: Applicant
    new_period_ends_on: date
    proof: str
    # ② only: the immigration application is pending (the receipt seen at the counter).
    application_pending: bool = False


# --- helpers -------------------------------------------------------------------------------------


def _check_applicant(*, resident: Resident, applicant: Applicant, on: date) -> None:
    errors: dict[str, str] = {}
    problem = applicant_problem(
        applicant_type=applicant.applicant_type, birth_date=resident.birth_date, on=on
    )
    if problem:
        errors["applicant_type"] = problem
    if (
        applicant.applicant_type is not ApplicantType.HOLDER
        and not applicant.applicant_name.strip()
    ):
        errors["applicant_name"] = "代理人の氏名を入力してください。"
    identity = identity_problems(
        documents=applicant.documents, applicant_type=applicant.applicant_type
    )
    if identity:
        errors["documents"] = " ".join(identity)
    if errors:
        raise ValidationError(errors)


def _begin(
    *, acting_user: User, resident: Resident, applicant: Applicant, on: date | None
) -> tuple[Resident, date]:
    """Every change starts so: staff of the resident's office, the resident locked (then the
    card, the lock order of receipt), whoever stands at the counter checked."""
    _require_staff_for(acting_user, resident)
    day = on or timezone.localdate()
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _check_applicant(resident=resident, applicant=applicant, on=day)
    return resident, day


def _current_card(resident: Resident, *, on: date) -> Card:
    """The resident's card in use, locked (after the resident: the lock order of receipt)."""
    card = (
        Card.objects.select_for_update()
        .filter(resident=resident, state__in=[CardState.ACTIVE, CardState.SUSPENDED])
        .first()
    )
    if card is None:
        raise ValidationError("この住民には使用中のマイナンバーカードがありません。")
    if card.state == CardState.SUSPENDED:
        raise ValidationError("一時停止中のカードです。先に一時停止の解除の手続をしてください。")
    if card.expires_on is not None and card.expires_on < on:
        raise ValidationError("有効期限が切れたカードです。更新の手続をしてください。")
    return card


def _done(
    *,
    acting_user: User,
    resident: Resident,
    kind: ApplicationKind,
    applicant: Applicant,
    card: Card,
    on: date,
    endorsement: Endorsement | None = None,
    continued_use: ContinuedUse | None = None,
    expiry: ExpiryChange | None = None,
) -> Application:
    """The Application of a card change, done at the counter; its fee is the free row of the
    schedule in force (R-REI-3), so the record says which schedule decided."""
    quote = fee_quote(procedure=Procedure.CARD_CHANGE, on=on)
    application = Application(
        kind=kind,
        state=ApplicationState.DONE,
        resident=resident,
        office_id=resident.office_id,
        counter_id=acting_user.counter_id,
        applicant_type=applicant.applicant_type,
        applicant_name=(
            ""
            if applicant.applicant_type is ApplicantType.HOLDER
            else applicant.applicant_name.strip()[:120]
        ),
        documents=sorted(applicant.documents),
        received_on=on,
        received_at=timezone.now(),
        received_by=acting_user,
        old_card=card,
        with_certificates=False,
        fee_row=quote.row,
        fee_amount_yen=quote.amount_yen,
        fee_schedule_id=quote.schedule_id,
        endorsement=endorsement,
        continued_use=continued_use,
        expiry_change=expiry,
    )
    return _application_insert(application)


def _endorse_and_revoke(
    *, acting_user: User, card: Card, kind: EndorsementKind, value: str, on: date
) -> Endorsement:
    """R-CHG-1 / R-CHG-3: the dated entry and the chip, then SIGNING revoked (R-CRT-4)."""
    entry = card_endorse(
        acting_user=acting_user,
        card=card,
        kind=kind,
        text=f"{format_wareki(on)} {kind.label} {value}",
        on=on,
    )
    signing_revoke_for_change(
        acting_user=acting_user, card=card, on=on, reason=f"{kind.label}（券面記載事項の変更）"
    )
    return entry


def _endorsed(
    *,
    acting_user: User,
    resident: Resident,
    kind: ApplicationKind,
    applicant: Applicant,
    card: Card,
    on: date,
    entry_kind: EndorsementKind,
    value: str,
) -> Application:
    """Write the entry (SIGNING revoked) and record the application, done."""
    entry = _endorse_and_revoke(
        acting_user=acting_user, card=card, kind=entry_kind, value=value, on=on
    )
    return _done(
        acting_user=acting_user,
        resident=resident,
        kind=kind,
        applicant=applicant,
        card=card,
        on=on,
        endorsement=entry,
    )


# --- R-CHG-1: address and name -------------------------------------------------------------------


@service
def address_change_receive(
    *, acting_user: User, resident: Resident, data: AddressChangeInput, on: date | None = None
) -> Application:
    """An address change written on the card (R-CHG-1): the register, the endorsement and the
    chip, and SIGNING revoked (R-CRT-4), in one transaction."""
    resident, on = _begin(
        acting_user=acting_user, resident=resident, applicant=data.applicant, on=on
    )
    card = _current_card(resident, on=on)
    resident = resident_change_address(
        acting_user=acting_user,
        resident=resident,
        address=data.address,
        postal_code=data.postal_code,
    )
    return _endorsed(
        acting_user=acting_user,
        resident=resident,
        kind=ApplicationKind.ADDRESS_CHANGE,
        applicant=data.applicant,
        card=card,
        on=on,
        entry_kind=EndorsementKind.ADDRESS,
        value=resident.address,
    )


@service
def name_change_receive(
    *, acting_user: User, resident: Resident, data: NameChangeInput, on: date | None = None
) -> Application:
    """A name change written on the card (R-CHG-1); SIGNING revoked (R-CRT-4)."""
    resident, on = _begin(
        acting_user=acting_user, resident=resident, applicant=data.applicant, on=on
    )
    card = _current_card(resident, on=on)
    resident = resident_change_name(
        acting_user=acting_user,
        resident=resident,
        family_name=data.family_name,
        given_name=data.given_name,
        family_name_kana=data.family_name_kana,
        given_name_kana=data.given_name_kana,
    )
    shown = name_as_card_shows(
        family_name=resident.family_name,
        given_name=resident.given_name,
        former_surname=resident.former_surname if card.former_surname_listed else "",
    )
    return _endorsed(
        acting_user=acting_user,
        resident=resident,
        kind=ApplicationKind.NAME_CHANGE,
        applicant=data.applicant,
        card=card,
        on=on,
        entry_kind=EndorsementKind.NAME,
        value=shown,
    )


# --- R-CHG-3: former surname ---------------------------------------------------------------------


@service
def former_surname_receive(
    *, acting_user: User, resident: Resident, data: FormerSurnameInput, on: date | None = None
) -> Application:
    """List the former surname on the card in use, in the endorsement field (R-CHG-3); SIGNING
    revoked (R-CRT-4). On a new card it is the application form's "旧氏を併記する"."""
    resident, on = _begin(
        acting_user=acting_user, resident=resident, applicant=data.applicant, on=on
    )
    card = _current_card(resident, on=on)
    if card.former_surname_listed:
        raise ValidationError("このカードには既に旧氏が併記されています。")
    if data.former_surname.strip():
        resident = resident_set_former_surname(
            acting_user=acting_user,
            resident=resident,
            former_surname=data.former_surname,
            former_surname_kana=data.former_surname_kana,
        )
    problem = former_surname_problem(former_surname=resident.former_surname, on=on)
    if problem:
        raise ValidationError({"former_surname": problem})
    card_list_former_surname(acting_user=acting_user, card=card)
    shown = name_as_card_shows(
        family_name=resident.family_name,
        given_name=resident.given_name,
        former_surname=resident.former_surname,
    )
    return _endorsed(
        acting_user=acting_user,
        resident=resident,
        kind=ApplicationKind.FORMER_SURNAME,
        applicant=data.applicant,
        card=card,
        on=on,
        entry_kind=EndorsementKind.FORMER_SURNAME,
        value=shown,
    )


# --- R-CHG-4: continued use after moving in ------------------------------------------------------


def open_continued_use(card: Card) -> ContinuedUse | None:
    return ContinuedUse.objects.filter(
        card=card, registered_on__isnull=True, voided_on__isnull=True
    ).first()


@dataclass(frozen=True)
class ContinuedUseResult:
    """What the counter did: the application (registered, or the move-in recorded), or why the
    card became void (the move-in notice came too late, R-CHG-4)."""

    application: Application
    voided: ContinuedUseVoid | None


@service
def continued_use_receive(
    *, acting_user: User, resident: Resident, data: ContinuedUseInput, on: date | None = None
) -> ContinuedUseResult:
    """Continued use of a card brought from another city (R-CHG-4).

    First visit (the move-in notice): the three dates and the new address are recorded (the
    register changes with them). A notice later than moved-in + 14 or planned move-out + 30
    voids the card at once, its certificates with it (R-CRT-5). With ``register_now`` (or on
    a later visit, within the notice + 90), continued use is registered: the new address in
    the endorsement field, SIGNING revoked (R-CRT-4). An expired, suspended or cancelled card
    cannot be continued.
    """
    resident, on = _begin(
        acting_user=acting_user, resident=resident, applicant=data.applicant, on=on
    )
    card = (
        Card.objects.select_for_update()
        .filter(resident=resident, state__in=[CardState.ACTIVE, CardState.SUSPENDED])
        .first()
    )
    if card is None:
        raise ValidationError("継続利用できるカードがありません（失効・廃止済）。")
    problem = continued_use_card_problem(
        state=CardState(card.state), expires_on=card.expires_on, on=on
    )
    if problem:
        raise ValidationError(problem)
    record = open_continued_use(card)
    if record is None:
        record = _record_move_in(
            acting_user=acting_user, resident=resident, card=card, data=data, on=on
        )
    reason = continued_use_void_reason(
        moved_in_on=record.moved_in_on,
        move_in_notice_on=record.move_in_notice_on,
        planned_move_out_on=record.planned_move_out_on,
        registered_on=on if data.register_now else None,
        on=on,
        moved_out_again_on=resident.left_on,
    )
    if reason is not None:
        _void_card(acting_user=acting_user, record=record, card=card, reason=reason, on=on)
        application = _done(
            acting_user=acting_user,
            resident=resident,
            kind=ApplicationKind.CONTINUED_USE,
            applicant=data.applicant,
            card=card,
            on=on,
            continued_use=record,
        )
        return ContinuedUseResult(application=application, voided=reason)
    entry = None
    if data.register_now:
        continued_use_close(acting_user=acting_user, continued_use=record, on=on, void_reason=None)
        resident.refresh_from_db()
        entry = _endorse_and_revoke(
            acting_user=acting_user,
            card=card,
            kind=EndorsementKind.CONTINUED_USE,
            value=resident.address,
            on=on,
        )
    application = _done(
        acting_user=acting_user,
        resident=resident,
        kind=ApplicationKind.CONTINUED_USE,
        applicant=data.applicant,
        card=card,
        on=on,
        endorsement=entry,
        continued_use=record,
    )
    return ContinuedUseResult(application=application, voided=None)


def _record_move_in(
    *, acting_user: User, resident: Resident, card: Card, data: ContinuedUseInput, on: date
) -> ContinuedUse:
    errors: dict[str, str] = {}
    for name, label in (
        ("planned_move_out_on", "転出予定日"),
        ("moved_in_on", "転入日"),
        ("move_in_notice_on", "転入届の日"),
    ):
        value = getattr(data, name)
        if value is None:
            errors[name] = f"{label}を入力してください。"
        elif value > on:
            errors[name] = f"{label}が今日より後になっています。"
    planned, moved_in, notice = data.planned_move_out_on, data.moved_in_on, data.move_in_notice_on
    if errors or planned is None or moved_in is None or notice is None:
        raise ValidationError(errors)
    if notice < moved_in:
        raise ValidationError({"move_in_notice_on": "転入届の日が転入日より前です。"})
    if data.address.strip() and data.address.strip() != resident.address:
        resident_change_address(
            acting_user=acting_user,
            resident=resident,
            address=data.address,
            postal_code=data.postal_code,
        )
    return continued_use_open(
        acting_user=acting_user,
        card=card,
        planned_move_out_on=planned,
        moved_in_on=moved_in,
        move_in_notice_on=notice,
    )


def _void_card(
    *,
    acting_user: User | SystemActor,
    record: ContinuedUse,
    card: Card,
    reason: ContinuedUseVoid,
    on: date,
) -> None:
    continued_use_close(acting_user=acting_user, continued_use=record, on=on, void_reason=reason)
    card_end(
        acting_user=acting_user,
        card=card,
        to_state=CardState.VOID,
        on=on,
        reason=f"継続利用不可：{reason.label}",
    )


@service
def continued_use_void_due(*, acting_user: SystemActor = CONTINUED_USE_JOB, on: date) -> int:
    """The daily job (R-CHG-4): void every card whose continued use can no longer be
    registered on ``on`` (the notice + 90 has passed, or the holder moved out again).

    Idempotent: a closed record is never read again, and each record is locked and re-read
    before it is closed (continued_use_close), so two runs at once void each card once.
    Returns how many cards it voided.
    """
    voided = 0
    candidates = ContinuedUse.objects.filter(
        registered_on__isnull=True, voided_on__isnull=True
    ).filter(register_by__lt=on) | ContinuedUse.objects.filter(
        registered_on__isnull=True,
        voided_on__isnull=True,
        card__resident__left_on__isnull=False,
        card__resident__left_on__lte=on,
    )
    rows = candidates.values_list("pk", "card_id", "card__resident_id").distinct()
    for record_id, card_id, resident_id in rows:
        # The counter locks the resident, the card, then its record (continued_use_receive),
        # and ending a card locks its resident with it (cards.services): so does the job, or
        # a clerk and the job would wait for each other. A resident a clerk is serving right
        # now is skipped: the clerk decides, or tomorrow's run does.
        serving = (
            Resident.objects.select_for_update(skip_locked=True)
            .filter(pk=resident_id)
            .values_list("pk", flat=True)
            .first()
        )
        if serving is None:
            continue
        Card.objects.select_for_update().filter(pk=card_id).values_list("pk").get()
        record = ContinuedUse.objects.select_for_update().get(pk=record_id)
        if record.registered_on is not None or record.voided_on is not None:
            continue  # closed by a clerk or another run before the lock
        card = Card.objects.select_related("resident").get(pk=card_id)
        reason = continued_use_void_reason(
            moved_in_on=record.moved_in_on,
            move_in_notice_on=record.move_in_notice_on,
            planned_move_out_on=record.planned_move_out_on,
            registered_on=None,
            on=on,
            moved_out_again_on=card.resident.left_on,
        )
        if reason is None:
            continue
        if card.state not in (CardState.ACTIVE, CardState.SUSPENDED):
            # Ended some other way meanwhile (lost, returned): only the record closes.
            continued_use_close(
                acting_user=acting_user, continued_use=record, on=on, void_reason=reason
            )
            continue
        _void_card(acting_user=acting_user, record=record, card=card, reason=reason, on=on)
        voided += 1
    logger.info("continued use voided: on=%s count=%d", on.isoformat(), voided)
    return voided


# --- R-VAL-7: a foreign resident's expiry change and special extension ---------------------------


@service
def expiry_change_receive(
    *,
    acting_user: User,
    resident: Resident,
    data: ExpiryChangeInput,
    special: bool = False,
    on: date | None = None,
) -> Application:
    """Move a foreign resident's card expiry (R-VAL-7 ①), or extend it once into the special
    period (②). Applied for before the card expires; the proof is recorded; the register's
    end of stay changes with ①; the e-certificates keep their own expiry (R-VAL-7). The card
    then no longer gets the R-NOT-3 reminder for the old expiry.
    """
    resident, on = _begin(
        acting_user=acting_user, resident=resident, applicant=data.applicant, on=on
    )
    if not resident.is_foreign or resident.period_of_stay_ends_on is None:
        raise ValidationError("在留期間の定めのある外国人住民の手続です。")
    card = (
        Card.objects.select_for_update()
        .filter(resident=resident, state__in=[CardState.ACTIVE, CardState.SUSPENDED])
        .first()
    )
    if card is None or card.expires_on is None or card.issued_on is None:
        raise ValidationError("有効期限を変更できるカードがありません。")
    if not data.proof.strip():
        raise ValidationError(
            {"proof": "確認した書類（在留カード・申請受付票等）を記録してください。"}
        )
    try:
        if special:
            new_expiry = special_period_extension(
                current_expires_on=card.expires_on,
                special_period_ends_on=data.new_period_ends_on,
                proof_of_pending_application=data.application_pending,
                already_extended=card.expiry_extended,
            )
            if on > card.expires_on:
                raise ValueError("有効期限を過ぎたカードは延長できません。")
        else:
            new_expiry = expiry_change(
                birth_date=resident.birth_date,
                original_issued_on=card.issued_on,
                applied_on=card.applied_on,
                current_expires_on=card.expires_on,
                requested_on=on,
                new_period_ends_on=data.new_period_ends_on,
            )
    except ValueError as exc:
        raise ValidationError({"new_period_ends_on": str(exc)}) from None
    if not special:
        resident = resident_change_period_of_stay(
            acting_user=acting_user, resident=resident, period_ends_on=data.new_period_ends_on
        )
    change = card_change_expiry(
        acting_user=acting_user,
        card=card,
        kind=ExpiryChangeKind.SPECIAL_EXTENSION if special else ExpiryChangeKind.CHANGE,
        requested_on=on,
        new_expires_on=new_expiry,
        new_period_ends_on=data.new_period_ends_on,
        proof=data.proof,
    )
    return _done(
        acting_user=acting_user,
        resident=resident,
        kind=ApplicationKind.SPECIAL_EXTENSION if special else ApplicationKind.EXPIRY_CHANGE,
        applicant=data.applicant,
        card=card,
        on=on,
        expiry=change,
    )
