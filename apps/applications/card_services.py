"""Procedures on a card in use (CARD_SERVICE_KINDS): the e-certificates, the lock release
and PIN reset, the return and the city's cancellation, the record of a lifting.

Each is one service (apps.core.service): it checks who may act and what the rule needs,
locks what it changes, writes an Application of its kind (so the resident's procedures and
history show it) with its CardProcedure, and calls the cards and certificates services.
R-PIN-3: no PIN passes through here, only which PINs were reset.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.applications.models import Application, CardProcedure
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    IdentityDocument,
    ReturnReason,
    applicant_problem,
    identity_problems,
    lock_release_needs_letter,
    lock_release_problems,
)
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.suspensions import card_lift_suspension
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateAction, CertificateKind, PinKind
from apps.certificates.services import card_end, certificate_issue, certificate_revoke, pins_reset
from apps.core.service import service
from apps.fees.services import fee_quote
from apps.residents.models import Resident
from apps.residents.rules import needs_legal_representative


@dataclass(frozen=True)
class Applicant:
    """Who stands at the counter and how they were identified."""

    applicant_type: ApplicantType = ApplicantType.HOLDER
    applicant_name: str = ""
    documents: frozenset[IdentityDocument] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CertificateInput:
    action: CertificateAction
    kind: CertificateKind
    applicant: Applicant
    serial: str = ""  # the new certificate's serial (issue, renew), as J-LIS issued it
    legal_rep_requests: bool = False
    reason: str = ""  # why it is revoked


@dataclass(frozen=True)
class LockReleaseInput:
    applicant: Applicant
    pins: frozenset[PinKind]
    card_presented: bool = False


@dataclass(frozen=True)
class ReturnInput:
    reason: ReturnReason
    applicant: Applicant = Applicant()
    note: str = ""


# --- shared steps -------------------------------------------------------------------------------


def _locked_card(*, acting_user: User, card: Card) -> tuple[Card, Resident]:
    """Lock the card, then load what is decided on; the clerk must work on its resident."""
    Card.objects.select_for_update().filter(pk=card.pk).values_list("pk").get()
    card = Card.objects.get(pk=card.pk)
    resident = Resident.objects.get(pk=card.resident_id)
    policy.check(policy.resident_staff(acting_user))
    policy.check(policy.same_office(acting_user, resident), "この住民の手続はできません。")
    return card, resident


def _applicant_errors(*, resident: Resident, applicant: Applicant, on: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    problem = applicant_problem(
        applicant_type=applicant.applicant_type, birth_date=resident.birth_date, on=on
    )
    if problem:
        errors["applicant_type"] = problem.replace("申請", "手続")
    if (
        applicant.applicant_type is not ApplicantType.HOLDER
        and not applicant.applicant_name.strip()
    ):
        errors["applicant_name"] = "代理人の氏名を入力してください。"
    if len(applicant.applicant_name) > 120:
        errors["applicant_name"] = "代理人の氏名は120文字以内で入力してください。"
    return errors


def _new_application(
    *,
    acting_user: User,
    resident: Resident,
    card: Card,
    kind: ApplicationKind,
    applicant: Applicant,
    on: date,
    state: ApplicationState = ApplicationState.DONE,
) -> Application:
    """The Application of a procedure on ``card``; its fee comes from the schedule in force
    when the kind has a fee row (the certificates: free, R-REI table), else there is none."""
    procedure = kind.procedure
    quote = fee_quote(procedure=procedure, on=on) if procedure is not None else None
    return Application.objects.create(
        kind=kind,
        state=state,
        resident=resident,
        office_id=resident.office_id,
        counter_id=acting_user.counter_id,
        applicant_type=applicant.applicant_type,
        applicant_name=(
            ""
            if applicant.applicant_type is ApplicantType.HOLDER
            else applicant.applicant_name.strip()
        ),
        documents=sorted(applicant.documents),
        received_on=on,
        received_at=timezone.now(),
        received_by=acting_user,
        old_card=card,
        with_certificates=False,
        fee_row=quote.row if quote else "",
        fee_amount_yen=quote.amount_yen if quote else 0,
        fee_schedule_id=quote.schedule_id if quote else None,
    )


# --- e-certificates (R-CRT-1…5) -----------------------------------------------------------------


@service
def certificate_procedure(
    *, acting_user: User, card: Card, data: CertificateInput, on: date | None = None
) -> Application:
    """Issue (with a new card, or added later), renew or revoke one e-certificate at the
    counter (R-CRT-1…5).

    Issue and renew: the card must be waiting for its holder or in use; SIGNING is refused
    to a holder under 15 on ``on`` and to an adult ward, AUTH for them only at the legal
    representative's request (R-CRT-2, the reason on screen); a holder who has turned 15
    adds SIGNING (R-CRT-3). Renewing replaces the certificate of that kind; issuing refuses
    when one is in force. Revoke ends the active one; the card stays. Free (R-REI table).
    Certificates end with their card (R-CRT-5: apps.certificates.services.card_end).
    """
    on = on or timezone.localdate()
    card, resident = _locked_card(acting_user=acting_user, card=card)
    errors = _applicant_errors(resident=resident, applicant=data.applicant, on=on)
    identity = identity_problems(
        documents=data.applicant.documents, applicant_type=data.applicant.applicant_type
    )
    if identity:
        errors["documents"] = " ".join(identity)
    if data.legal_rep_requests and data.applicant.applicant_type is not ApplicantType.LEGAL_REP:
        errors["legal_rep_requests"] = "法定代理人の申請は、法定代理人が手続する場合のみです。"
    if errors:
        raise ValidationError(errors)
    active = Certificate.objects.select_for_update().filter(
        card=card, kind=data.kind, state=CertificateState.ACTIVE
    )
    current = active.first()
    certificate: Certificate
    if data.action is CertificateAction.REVOKE:
        if current is None:
            raise ValidationError(f"有効な{data.kind.label}がありません。")
        reason = data.reason.strip() or "本人の申出による失効"
        certificate = certificate_revoke(
            acting_user=acting_user, certificate=current, on=on, reason=reason
        )
    else:
        if card.state not in (CardState.ARRIVED, CardState.ACTIVE):
            raise ValidationError(
                f"「{CardState(card.state).label}」のカードには電子証明書を発行できません。"
            )
        if data.action is CertificateAction.ISSUE and current is not None:
            raise ValidationError(
                f"有効な{data.kind.label}があります。更新の場合は「更新」を選んでください。"
            )
        if (
            data.action is CertificateAction.RENEW
            and not Certificate.objects.filter(card=card, kind=data.kind).exists()
        ):
            raise ValidationError(
                f"更新する{data.kind.label}がありません。「発行」を選んでください。"
            )
        serial = data.serial.strip().lower().replace(":", "").replace(" ", "")
        if not serial or len(serial) > 64 or any(c not in "0123456789abcdef" for c in serial):
            raise ValidationError(
                {"serial": "シリアル番号は16進数（64文字以内）で入力してください。"}
            )
        if Certificate.objects.filter(serial=serial).exists():
            raise ValidationError(
                {"serial": "このシリアル番号の電子証明書は既に記録されています。"}
            )
        certificate = certificate_issue(
            acting_user=acting_user,
            card=card,
            kind=data.kind,
            serial=serial,
            issued_on=on,
            legal_rep_requests=data.legal_rep_requests,
        )
    application = _new_application(
        acting_user=acting_user,
        resident=resident,
        card=card,
        kind=ApplicationKind.CERTIFICATE,
        applicant=data.applicant,
        on=on,
    )
    CardProcedure.objects.create(
        application=application,
        card=card,
        certificate_action=data.action,
        certificate_kind=data.kind,
        certificate=certificate,
        legal_rep_requests=data.legal_rep_requests,
    )
    return application


# --- lock release and PIN reset (R-PIN-1, R-PIN-3) ----------------------------------------------

# No 0/O, 1/I/L: the code is typed back from a paper letter.
_LETTER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LETTER_CODE_LENGTH = 8


def _new_letter_code() -> str:
    return "".join(secrets.choice(_LETTER_ALPHABET) for _ in range(LETTER_CODE_LENGTH))


def normalize_letter_code(code: str) -> str:
    """What the clerk typed from the letter: full-width, lower case, spaces and hyphens are
    forgiven."""
    import unicodedata

    text = unicodedata.normalize("NFKC", code).upper()
    return "".join(ch for ch in text if ch not in " -‐ー")


@service
def lock_release_receive(
    *, acting_user: User, card: Card, data: LockReleaseInput, on: date | None = None
) -> Application:
    """Receive a lock release or PIN reset at the counter (R-PIN-1).

    The card and the identity of whoever stands there are checked (a legal representative
    brings proof of authority and their own photo ID; an under-15's release is the legal
    representative's). The holder or the legal representative: the PINs are reset now and
    the procedure is done. An ordinary proxy: the inquiry-and-answer letter (照会書兼回答書)
    is issued to the holder's registered address and the release waits for its answer
    (:func:`lock_release_answer_record`, :func:`lock_release_complete`). R-PIN-3: which
    PINs, never a PIN.
    """
    on = on or timezone.localdate()
    card, resident = _locked_card(acting_user=acting_user, card=card)
    applicant = data.applicant
    errors = _applicant_errors(resident=resident, applicant=applicant, on=on)
    problems = lock_release_problems(
        applicant_type=applicant.applicant_type,
        documents=applicant.documents,
        card_presented=data.card_presented,
        pins=data.pins,
    )
    if problems:
        errors["__all__"] = " ".join(problems)
    if errors:
        raise ValidationError(errors)
    if card.state != CardState.ACTIVE:
        raise ValidationError("有効なカードでないため、暗証番号のロック解除はできません。")
    proxy = lock_release_needs_letter(applicant.applicant_type)
    application = _new_application(
        acting_user=acting_user,
        resident=resident,
        card=card,
        kind=ApplicationKind.LOCK_RELEASE,
        applicant=applicant,
        on=on,
        state=ApplicationState.RECEIVED if proxy else ApplicationState.DONE,
    )
    ordered = [kind.value for kind in PinKind if kind in data.pins]
    if proxy:
        CardProcedure.objects.create(
            application=application,
            card=card,
            pins=ordered,
            letter_code=_new_letter_code(),
            letter_issued_on=on,
        )
        return application
    pins_reset(acting_user=acting_user, card=card, kinds=data.pins)
    CardProcedure.objects.create(
        application=application, card=card, pins=ordered, pins_reset_at=timezone.now()
    )
    return application


def _locked_lock_release(*, acting_user: User, application: Application) -> CardProcedure:
    Application.objects.select_for_update().filter(pk=application.pk).values_list("pk").get()
    CardProcedure.objects.select_for_update().filter(pk=application.pk).values_list("pk").get()
    procedure = CardProcedure.objects.select_related("application", "card").get(pk=application.pk)
    app = procedure.application
    if app.kind != ApplicationKind.LOCK_RELEASE:
        raise ValidationError("暗証番号のロック解除の手続ではありません。")
    resident = Resident.objects.get(pk=app.resident_id)
    policy.check(policy.resident_staff(acting_user))
    policy.check(policy.same_office(acting_user, resident), "この住民の手続はできません。")
    if app.state != ApplicationState.RECEIVED:
        raise ValidationError("この手続は終了しています。")
    return procedure


@service
def lock_release_answer_record(
    *,
    acting_user: User,
    application: Application,
    letter_code: str,
    documents: frozenset[IdentityDocument],
) -> Application:
    """The ordinary proxy's second visit: the answered inquiry letter is back (R-PIN-1).

    The code printed on the letter ties the visits: it must be the one issued with this
    procedure (compared in constant time). The proxy shows their identity and the letter of
    proxy again.
    """
    procedure = _locked_lock_release(acting_user=acting_user, application=application)
    if procedure.letter_code is None:
        raise ValidationError("この手続に照会書兼回答書はありません。")
    if procedure.answer_received_at is not None:
        raise ValidationError("回答書は既に受領しています。")
    identity = identity_problems(documents=documents, applicant_type=ApplicantType.PROXY)
    if identity:
        raise ValidationError({"documents": " ".join(identity)})
    typed = normalize_letter_code(letter_code)
    if not hmac.compare_digest(typed.encode(), procedure.letter_code.encode()):
        raise ValidationError({"letter_code": "照会番号が照会書兼回答書の番号と一致しません。"})
    procedure.answer_received_at = timezone.now()
    procedure.answer_received_by = acting_user
    procedure.save(update_fields=["answer_received_at", "answer_received_by"])
    app = procedure.application
    app.handover_documents = sorted(documents)
    app.save(update_fields=["handover_documents", "updated_at"])
    return app


@service
def lock_release_complete(*, acting_user: User, application: Application) -> Application:
    """Release the locks once the answer is back (R-PIN-1): refused before it."""
    procedure = _locked_lock_release(acting_user=acting_user, application=application)
    if procedure.awaiting_answer:
        raise ValidationError(
            "照会書兼回答書の回答が届くまで、ロック解除はできません（2回目の来庁で回答書を確認します）。"
        )
    pins_reset(
        acting_user=acting_user,
        card=procedure.card,
        kinds=frozenset(PinKind(kind) for kind in procedure.pins),
    )
    procedure.pins_reset_at = timezone.now()
    procedure.save(update_fields=["pins_reset_at"])
    app = procedure.application
    app.state = ApplicationState.DONE
    app.save(update_fields=["state", "updated_at"])
    return app


# --- return and cancellation (返納・廃止, R-CRT-5) -----------------------------------------------


@service
def card_return(
    *, acting_user: User, card: Card, data: ReturnInput, on: date | None = None
) -> Application:
    """The holder returns the card (death, leaving Japan, their own wish) or the city cancels
    it (廃止): the card ends, and its certificates with it (R-CRT-5). A cancelled card can
    never be un-suspended again (R-SUS-2). Whoever hands a card back is identified; the
    city's own cancellation has no one at the counter."""
    on = on or timezone.localdate()
    card, resident = _locked_card(acting_user=acting_user, card=card)
    applicant = data.applicant
    if not data.reason.cancels:
        errors: dict[str, str] = {}
        if (
            applicant.applicant_type is not ApplicantType.HOLDER
            and not applicant.applicant_name.strip()
        ):
            errors["applicant_name"] = "代理人の氏名を入力してください。"
        identity = identity_problems(
            documents=applicant.documents, applicant_type=applicant.applicant_type
        )
        if identity and data.reason is not ReturnReason.DEATH:
            errors["documents"] = " ".join(identity)
        if errors:
            raise ValidationError(errors)
    else:
        applicant = Applicant()
    note = data.note.strip()[:100]
    reason = data.reason.label + (f"（{note}）" if note else "")
    to_state = CardState.VOID if data.reason.cancels else CardState.RETURNED
    if card.state in (CardState.VOID, CardState.RETURNED):
        raise ValidationError("このカードは既に返納または廃止されています。")
    if to_state is CardState.RETURNED and card.state == CardState.LOST:
        raise ValidationError("紛失として届出のあったカードは、廃止として手続してください。")
    card_end(acting_user=acting_user, card=card, to_state=to_state, on=on, reason=reason)
    application = _new_application(
        acting_user=acting_user,
        resident=resident,
        card=card,
        kind=ApplicationKind.CARD_RETURN,
        applicant=applicant,
        on=on,
    )
    CardProcedure.objects.create(application=application, card=card, return_reason=data.reason)
    return application


# --- lifting (R-SUS-2) --------------------------------------------------------------------------


@service
def suspension_lift_record(
    *,
    acting_user: User,
    card: Card,
    applicant: Applicant,
    card_read_id: uuid.UUID,
    on: date | None = None,
) -> Application:
    """Lift a suspension at the counter and record it (R-SUS-2): in person (the holder; for
    an under-15 the legal representative, who brings proof of authority), identity checked;
    refused for a cancelled card (apps.cards.suspensions.card_lift_suspension). The card
    read it rests on is checked by the caller (apps.counters.services
    .suspension_lift_at_counter) and named here."""
    on = on or timezone.localdate()
    card, resident = _locked_card(acting_user=acting_user, card=card)
    errors = _applicant_errors(resident=resident, applicant=applicant, on=on)
    may_represent = resident.adult_ward or needs_legal_representative(
        birth_date=resident.birth_date, on=on
    )
    if applicant.applicant_type is ApplicantType.PROXY or (
        applicant.applicant_type is ApplicantType.LEGAL_REP and not may_represent
    ):
        errors["applicant_type"] = (
            "一時停止の解除は、本人が来庁して行います（15歳未満・成年被後見人の方は法定代理人）。"
        )
    identity = identity_problems(
        documents=applicant.documents, applicant_type=applicant.applicant_type
    )
    if identity:
        errors["documents"] = " ".join(identity)
    if errors:
        raise ValidationError(errors)
    card_lift_suspension(acting_user=acting_user, card=card, on=on)
    application = _new_application(
        acting_user=acting_user,
        resident=resident,
        card=card,
        kind=ApplicationKind.SUSPENSION_LIFT,
        applicant=applicant,
        on=on,
    )
    CardProcedure.objects.create(application=application, card=card, card_read_id=card_read_id)
    return application
