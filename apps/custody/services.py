"""Every write of card custody and the handover interlock. Rule ids refer to docs/rules.md.

Each service is one transaction (``@service``), checks who may act, locks what it changes and
then loads what it decides on. The handover itself stays apps.applications'
``application_hand_over``; :func:`handover_gate` is the part of it this app answers for.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import Office, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationState
from apps.applications.services import HandoverInput, application_close_not_collected
from apps.audit.models import Action, Outcome
from apps.audit.services import access_log_record
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from apps.core.service import SystemActor, service
from apps.counters.models import CardRead
from apps.custody.models import (
    CardCustody,
    CustodyMove,
    CustodyState,
    DailyCount,
    DailyReconciliation,
    Destruction,
    HandoverReadCheck,
    Lot,
    MoveKind,
    Place,
    PlaceKind,
    SecondCheck,
    SecondCheckReason,
)
from apps.custody.rules import (
    Verdict,
    lot_number,
    may_destroy,
    normalize_serial,
    read_is_fresh,
    verdict_for,
)
from apps.custody.selectors import (
    latest_fresh_read,
    reconciliation_figures,
    same_name_residents,
)
from apps.notices.models import Notice
from apps.notices.rules import InvalidReferenceCodeError, NoticeKind, parse_reference_code
from apps.residents.models import Resident

RECONCILE_JOB = SystemActor("custody.reconcile_daily")


def _fresh_seconds() -> int:
    return int(settings.HANDOVER_READ_FRESH_SECONDS)


def _move(
    *,
    acting_user: User | SystemActor,
    custody: CardCustody,
    kind: MoveKind,
    to_place: Place | None = None,
    counter_id: Any = None,
    note: str = "",
) -> CustodyMove:
    """Record one move (R-STK-1) and put the card where it went; ``custody`` is locked."""
    move = CustodyMove.objects.create(
        card_id=custody.card_id,
        kind=kind,
        from_place_id=custody.place_id,
        to_place=to_place,
        counter_id=counter_id if counter_id is not None else custody.counter_id,
        moved_by=acting_user if isinstance(acting_user, User) else None,
        moved_at=timezone.now(),
        note=note or (acting_user.name if isinstance(acting_user, SystemActor) else ""),
    )
    custody.place = to_place
    custody.counter_id = counter_id if kind is MoveKind.TO_COUNTER else None
    custody.state = {
        MoveKind.RECEIVED: CustodyState.IN_PLACE,
        MoveKind.MOVED: CustodyState.IN_PLACE,
        MoveKind.BACK: CustodyState.IN_PLACE,
        MoveKind.TO_COUNTER: CustodyState.AT_COUNTER,
        MoveKind.HANDED_OVER: CustodyState.HANDED_OVER,
        MoveKind.DESTROYED: CustodyState.DESTROYED,
        MoveKind.RELEASED: CustodyState.RELEASED,
    }[kind]
    custody.save()
    return move


def _office_id(user: User) -> uuid.UUID:
    """The office a member of staff acts for (the policy checks already required one)."""
    if user.office_id is None:
        raise PermissionDenied("庁舎に所属していない職員は、この操作を行えません。")
    return user.office_id


def _locked_custody(card_id: Any) -> CardCustody:
    CardCustody.objects.select_for_update().filter(pk=card_id).values_list("pk").get()
    return CardCustody.objects.select_related("card__resident", "lot", "place").get(pk=card_id)


# --- places (R-STK-1) -------------------------------------------------------------------------


@service
def place_create(*, acting_user: User, name: str, kind: PlaceKind, sort_order: int = 0) -> Place:
    """A supervisor adds a custody place to their office (R-STK-1: configurable per office)."""
    policy.check(policy.may_configure_custody_places(acting_user))
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationError({"name": "保管場所の名称を60文字以内で入力してください。"})
    office_id = _office_id(acting_user)
    if Place.objects.filter(office_id=office_id, name=name).exists():
        raise ValidationError({"name": "同じ名称の保管場所があります。"})
    try:
        with transaction.atomic():
            return Place.objects.create(
                office_id=office_id, name=name, kind=kind, sort_order=sort_order
            )
    except IntegrityError:
        raise ValidationError({"name": "同じ名称の保管場所があります。"}) from None


@service
def place_set_active(*, acting_user: User, place: Place, active: bool) -> Place:
    policy.check(policy.may_configure_custody_places(acting_user))
    policy.check(policy.same_office(acting_user, place))
    place = Place.objects.select_for_update().get(pk=place.pk)
    if not active and CardCustody.objects.filter(place=place).exists():
        raise ValidationError(
            "カードが保管されている場所は使用停止にできません。先に移動してください。"
        )
    place.active = active
    place.save(update_fields=["active"])
    return place


# --- arrival lots (R-STK-1) -------------------------------------------------------------------


@service
def lot_receive(*, acting_user: User, place: Place, arrived_on: date) -> Lot:
    """Receive the office's cards that arrived on ``arrived_on`` and are not in the ledger
    yet as one lot, into ``place`` (R-STK-1: every arrived card belongs to a lot)."""
    policy.check(policy.resident_staff(acting_user))
    policy.check(policy.same_office(acting_user, place), "この保管場所は使えません。")
    if not place.active:
        raise ValidationError({"place": "使用停止中の保管場所です。"})
    office = Office.objects.select_for_update().get(pk=_office_id(acting_user))
    # The office row's lock queues concurrent receipts; each then sees what the one before
    # it committed, and the card's primary key in the ledger is the backstop.
    cards = list(
        Card.objects.filter(
            office=office,
            state=CardState.ARRIVED,
            arrived_on=arrived_on,
            custody__isnull=True,
        ).order_by("resident__search_kana", "id")
    )
    if not cards:
        raise ValidationError("この到着日に受け入れていないカードはありません。")
    sequence = Lot.objects.filter(office=office, arrived_on=arrived_on).count() + 1
    lot = Lot.objects.create(
        office=office,
        number=lot_number(office_code=office.code, arrived_on=arrived_on, sequence=sequence),
        arrived_on=arrived_on,
        received_at=timezone.now(),
        received_by=acting_user,
        card_count=len(cards),
    )
    # Set-based: a big arrivals day is thousands of cards (two INSERTs, not two per card).
    CardCustody.objects.bulk_create(
        CardCustody(
            card=card,
            office=office,
            lot=lot,
            position=position,
            state=CustodyState.IN_PLACE,
            place=place,
        )
        for position, card in enumerate(cards, start=1)
    )
    CustodyMove.objects.bulk_create(
        CustodyMove(
            card=card,
            kind=MoveKind.RECEIVED,
            to_place=place,
            moved_by=acting_user,
            moved_at=lot.received_at,
            note=lot.number,
        )
        for card in cards
    )
    return lot


@service
def custody_move(
    *, acting_user: User, card: Card, to_place: Place | None = None, to_counter: bool = False
) -> CardCustody:
    """Move a card between places, to the clerk's counter, or back (R-STK-1)."""
    custody = _locked_custody(card.pk)
    policy.check(policy.may_work_on(acting_user, custody), "このカードは扱えません。")
    if custody.state not in (CustodyState.IN_PLACE, CustodyState.AT_COUNTER):
        raise ValidationError("このカードは保管中ではありません。")
    if to_counter:
        if acting_user.counter_id is None:
            raise ValidationError("窓口が割り当てられていないため、窓口へ持ち出せません。")
        _move(
            acting_user=acting_user,
            custody=custody,
            kind=MoveKind.TO_COUNTER,
            counter_id=acting_user.counter_id,
        )
        return custody
    if to_place is None:
        raise ValidationError({"place": "移動先の保管場所を選んでください。"})
    if to_place.office_id != custody.office_id or not to_place.active:
        raise ValidationError({"place": "この保管場所には移動できません。"})
    if custody.place_id == to_place.pk:
        raise ValidationError({"place": "すでにこの保管場所にあります。"})
    kind = MoveKind.BACK if custody.state == CustodyState.AT_COUNTER else MoveKind.MOVED
    _move(acting_user=acting_user, custody=custody, kind=kind, to_place=to_place)
    return custody


# --- pre-handover setup (R-HND-1) -------------------------------------------------------------


@service
def card_setup_bind(*, acting_user: User, lot: Lot, card: Card, read: CardRead) -> CardCustody:
    """Bind the AUTH serial of ``read`` to ``card`` at pre-handover setup (R-HND-1).

    The screen names the card it expects next in the lot (its holder's name shown large);
    the read must be fresh, from the clerk's own reader, carry an AUTH certificate, and be of
    a chip bound to no card yet. A card of another lot, or one already set up, is refused.
    When the holder asked for the certificates, the AUTH certificate is recorded too, so that
    the counter's panel recognises the card from then on.
    """
    policy.check(policy.resident_staff(acting_user))
    custody = _locked_custody(card.pk)
    policy.check(policy.same_office(acting_user, custody), "このカードは扱えません。")
    if custody.lot_id != lot.pk:
        raise ValidationError(
            f"このカードはロット{custody.lot.number}のカードです。選んだロットのカードではありません。"
        )
    if custody.card.state != CardState.ARRIVED or custody.state not in (
        CustodyState.IN_PLACE,
        CustodyState.AT_COUNTER,
    ):
        raise ValidationError(
            "このカードは交付前設定の対象ではありません（保管中の到着カードのみ）。"
        )
    if custody.is_set_up:
        raise ValidationError("このカードは交付前設定が済んでいます。")
    if read.counter_id != acting_user.counter_id:
        raise ValidationError("この端末の読取ではありません。")
    if not read_is_fresh(read_at=read.read_at, now=timezone.now(), fresh_seconds=_fresh_seconds()):
        raise ValidationError("読取が古くなっています。カードをもう一度リーダーに置いてください。")
    serial = normalize_serial(read.certificate_serial)
    if not serial:
        raise ValidationError(
            "カードの利用者証明用電子証明書を読み取れませんでした。カードを置き直してください。"
        )
    other = (
        CardCustody.objects.filter(auth_serial=serial)
        .select_related("card__resident", "lot")
        .first()
    )
    if other is not None:
        raise ValidationError(
            f"このカードは既に{other.card.resident.full_name}さんのカード"
            f"（ロット{other.lot.number}）として設定されています。別のカードです。"
        )
    if read.card_id is not None and read.card_id != custody.card_id:
        raise ValidationError("読み取ったカードは別の方のカードとして登録されています。")
    custody.auth_serial = serial
    custody.set_up_at = timezone.now()
    custody.set_up_by = acting_user
    try:
        with transaction.atomic():
            custody.save()
    except IntegrityError:
        raise ValidationError("このカードは既に別のカードとして設定されています。") from None
    application = Application.objects.filter(new_card_id=custody.card_id).first()
    if application is not None and application.with_certificates:
        # Not eligible (R-CRT-2): the binding is what the handover needs; the certificate
        # only lets the counter's panel name the holder of a read.
        with contextlib.suppress(ValidationError):
            certificate_issue(
                acting_user=acting_user,
                card=custody.card,
                kind=CertificateKind.AUTH,
                serial=serial,
                issued_on=timezone.localdate(),
            )
    return custody


# --- the handover interlock (R-HND-2…5) ------------------------------------------------------


@dataclass(frozen=True)
class Interlock:
    """What the handover screen shows of the card in the clerk's hand (R-HND-2)."""

    verdict: Verdict
    check: HandoverReadCheck | None = None
    read_name: str = ""  # the holder of the card actually read (red screen)


def _bound_custody(application: Application) -> CardCustody | None:
    if application.new_card_id is None:
        return None
    return CardCustody.objects.filter(pk=application.new_card_id).first()


def _read_holder(read: CardRead, serial: str) -> Resident | None:
    other = (
        CardCustody.objects.filter(auth_serial=serial).select_related("card__resident").first()
        if serial
        else None
    )
    if other is not None:
        return other.card.resident
    return read.resident


@service
def handover_read_check(
    *, acting_user: User, application: Application, ip_address: str | None = None
) -> Interlock:
    """Judge the newest fresh read at the clerk's counter for this application (R-HND-2).

    Green when its AUTH serial equals the serial bound at setup; otherwise red, and the
    attempt is written to the access log (once per read) for both residents. Committed on its
    own: the red verdict stays recorded although nothing is handed over.
    """
    policy.check(policy.may_work_on(acting_user, application.resident), "この申請は扱えません。")
    if acting_user.counter_id is None:
        raise ValidationError("窓口が割り当てられていないため、カードの照合ができません。")
    custody = _bound_custody(application)
    if custody is None or not custody.is_set_up:
        return Interlock(verdict=Verdict.NOT_SET_UP)
    read = latest_fresh_read(counter_id=acting_user.counter_id, fresh_seconds=_fresh_seconds())
    if read is None:
        return Interlock(verdict=Verdict.WAITING)
    existing = HandoverReadCheck.objects.filter(application=application, read=read).first()
    serial = normalize_serial(read.certificate_serial)
    holder = _read_holder(read, serial)
    if existing is not None:
        return Interlock(
            verdict=Verdict.MATCH if existing.matches else Verdict.MISMATCH,
            check=existing,
            read_name=holder.full_name if holder is not None and not existing.matches else "",
        )
    verdict = verdict_for(bound_serial=custody.auth_serial, read_serial=serial)
    try:
        with transaction.atomic():
            check = HandoverReadCheck.objects.create(
                office_id=application.office_id,
                application=application,
                card_id=custody.card_id,
                counter_id=acting_user.counter_id,
                read=read,
                checked_by=acting_user,
                checked_at=timezone.now(),
                bound_serial=custody.auth_serial,
                read_serial=serial,
                matches=verdict is Verdict.MATCH,
                read_resident=holder if verdict is Verdict.MISMATCH else None,
            )
    except IntegrityError:
        # The same read judged at the same moment by a second tab (readcheck_once_per_read):
        # the first verdict stands and its access-log rows were written by that request.
        check = HandoverReadCheck.objects.get(application=application, read=read)
        return Interlock(
            verdict=Verdict.MATCH if check.matches else Verdict.MISMATCH,
            check=check,
            read_name=holder.full_name if holder is not None and not check.matches else "",
        )
    if verdict is Verdict.MISMATCH:
        detail = {
            "application": str(application.pk),
            "read": str(read.read_id),
            "check": check.pk,
        }
        access_log_record(
            actor=acting_user,
            action=Action.HANDOVER_BLOCKED,
            resident=application.resident,
            outcome=Outcome.DENIED,
            detail={**detail, "role": "applicant"},
            ip_address=ip_address,
        )
        if holder is not None and holder.pk != application.resident_id:
            access_log_record(
                actor=acting_user,
                action=Action.HANDOVER_BLOCKED,
                resident=holder,
                outcome=Outcome.DENIED,
                detail={**detail, "role": "read"},
                ip_address=ip_address,
            )
    return Interlock(
        verdict=verdict,
        check=check,
        read_name=holder.full_name if holder is not None and verdict is Verdict.MISMATCH else "",
    )


def _reference_problems(application: Application, data: HandoverInput) -> list[str]:
    """R-HND-3: the pickup notice (or a reminder) of this very card, or the extra check."""
    if not data.reference_code.strip():
        if data.extra_identity_check:
            return []
        return [
            "交付通知書の整理番号を読み取るか入力してください"
            "（通知書がないときは追加の本人確認を記録してください）。"
        ]
    try:
        number = parse_reference_code(data.reference_code)
    except InvalidReferenceCodeError as exc:
        return [str(exc)]
    if application.new_card_id is None:
        return ["この申請には交付するカードがありません。"]
    names_this_card = Notice.objects.filter(
        pk=number,
        card_id=application.new_card_id,
        kind__in=[NoticeKind.PICKUP.value, NoticeKind.UNCOLLECTED.value],
    ).exists()
    if not names_this_card:
        return ["この整理番号は、この申請のカードの交付通知書ではありません。"]
    return []


def handover_gate(
    *, acting_user: User, application: Application, data: HandoverInput, on: date
) -> list[str]:
    """R-HND-1…5 for one handover, inside its transaction (registered with
    apps.applications.services.handover_gate_register by this app's AppConfig).

    - R-HND-1: the card was set up and its AUTH serial bound;
    - R-HND-2: the newest read at the clerk's counter is fresh and was judged green for this
      application (a newer read, of any card, must be judged again first);
    - R-HND-3: the pickup notice's reference code names this card, or the extra identity
      check is recorded;
    - R-HND-4: another resident with the same kana name and birth date or household → a
      second identity document, other than the first;
    - R-HND-5: a second check asked for is confirmed by another member of staff.
    On success the ledger records the card leaving custody at this counter.
    """
    del on
    problems: list[str] = []
    custody = (
        _locked_custody(application.new_card_id)
        if application.new_card_id is not None
        and CardCustody.objects.filter(pk=application.new_card_id).exists()
        else None
    )
    if custody is None or not custody.is_set_up:
        return ["交付前設定（カードの読取と登録）が済んでいないカードは交付できません。"]
    if custody.state not in (CustodyState.IN_PLACE, CustodyState.AT_COUNTER):
        return ["このカードは保管中ではないため交付できません。"]
    counter_id = acting_user.counter_id
    if counter_id is None:
        return ["窓口が割り当てられていないため交付できません（カードの照合ができません）。"]
    now = timezone.now()
    newest = CardRead.objects.filter(counter_id=counter_id).order_by("-id").first()
    check = (
        HandoverReadCheck.objects.filter(application=application, counter_id=counter_id)
        .select_related("read")
        .order_by("-id")
        .first()
    )
    if newest is None or check is None or check.read_id != newest.pk:
        problems.append("この窓口のリーダーでカードを読み取り、照合してください。")
    elif not read_is_fresh(read_at=newest.read_at, now=now, fresh_seconds=_fresh_seconds()):
        problems.append("カードの読取が古くなっています。もう一度リーダーに置いてください。")
    elif not (check.matches and normalize_serial(newest.certificate_serial) == custody.auth_serial):
        problems.append("読み取ったカードがこの申請のカードと一致しないため、交付できません。")
    problems += _reference_problems(application, data)
    resident = application.resident
    if same_name_residents(resident=resident).exists():
        if data.second_document is None:
            problems.append("同姓同名の方がいます。2点目の本人確認書類を確認して選んでください。")
        elif data.second_document in data.documents:
            problems.append("2点目の本人確認書類は、1点目と別の書類を選んでください。")
    second = SecondCheck.objects.filter(application=application).first()
    if second is not None:
        if second.confirmed_by_id is None:
            problems.append("二人目の職員による確認が済んでいません。")
        elif second.confirmed_by_id == acting_user.pk:
            problems.append("二人目の確認をした職員とは別の職員が交付してください。")
    if problems:
        return problems
    _move(
        acting_user=acting_user,
        custody=custody,
        kind=MoveKind.HANDED_OVER,
        counter_id=counter_id,
    )
    return []


# --- R-HND-5: the second member of staff ----------------------------------------------------


@service
def second_check_request(
    *, acting_user: User, application: Application, reason: SecondCheckReason
) -> SecondCheck:
    """Mark an application for a second check (R-HND-5); the clerk asking is the first."""
    policy.check(policy.may_work_on(acting_user, application.resident), "この申請は扱えません。")
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.state != ApplicationState.ARRIVED:
        raise ValidationError("交付待ちの申請ではありません。")
    existing = SecondCheck.objects.filter(application=application).first()
    if existing is not None:
        return existing
    return SecondCheck.objects.create(
        office_id=application.office_id,
        application=application,
        reason=reason,
        requested_by=acting_user,
        requested_at=timezone.now(),
    )


@service
def second_check_confirm(*, acting_user: User, second_check: SecondCheck) -> SecondCheck:
    """Another member of staff confirms the photo / identity check on their own session
    (R-HND-5). The one who asked cannot; a confirmed check is not confirmed again."""
    SecondCheck.objects.select_for_update().filter(pk=second_check.pk).values_list("pk").get()
    second_check = SecondCheck.objects.get(pk=second_check.pk)
    policy.check(policy.resident_staff(acting_user))
    policy.check(policy.same_office(acting_user, second_check), "この確認はできません。")
    if second_check.requested_by_id == acting_user.pk:
        raise ValidationError("確認を依頼した職員とは別の職員が確認してください。")
    if second_check.confirmed_by_id is not None:
        raise ValidationError("この申請の二人目の確認は済んでいます。")
    second_check.confirmed_by = acting_user
    second_check.confirmed_at = timezone.now()
    second_check.save()
    return second_check


# --- R-STK-2: daily count ---------------------------------------------------------------------


@service
def daily_count_record(*, acting_user: User, place: Place, counted: int, on: date) -> DailyCount:
    """Staff counted ``place`` today; the ledger's own count is taken under the place's lock."""
    policy.check(policy.resident_staff(acting_user))
    policy.check(policy.same_office(acting_user, place), "この保管場所は点検できません。")
    if not 0 <= counted <= 100_000:
        raise ValidationError({"counted": "枚数は0から100,000の間で入力してください。"})
    Place.objects.select_for_update().filter(pk=place.pk).values_list("pk").get()
    if DailyCount.objects.filter(place=place, counted_on=on).exists():
        raise ValidationError("この保管場所は本日点検済です。")
    expected = sorted(
        str(card_id)
        for card_id in CardCustody.objects.filter(
            place=place, state=CustodyState.IN_PLACE
        ).values_list("card_id", flat=True)
    )
    try:
        with transaction.atomic():
            return DailyCount.objects.create(
                office_id=place.office_id,
                place=place,
                counted_on=on,
                counted_at=timezone.now(),
                counted_by=acting_user,
                counted=counted,
                expected=len(expected),
                expected_cards=expected,
            )
    except IntegrityError:
        raise ValidationError("この保管場所は本日点検済です。") from None


@service
def daily_count_resolve(*, acting_user: User, count: DailyCount, note: str) -> DailyCount:
    """A supervisor closes a count's difference with a note (R-STK-2)."""
    policy.check(policy.may_resolve_count_differences(acting_user))
    policy.check(policy.same_office(acting_user, count), "この点検結果は扱えません。")
    DailyCount.objects.select_for_update().filter(pk=count.pk).values_list("pk").get()
    count = DailyCount.objects.get(pk=count.pk)
    note = note.strip()
    if not note or len(note) > 500:
        raise ValidationError({"note": "解決の内容を500文字以内で記録してください。"})
    if count.difference == 0:
        raise ValidationError("この点検に差異はありません。")
    if count.resolved_at is not None:
        raise ValidationError("この差異は解決済です。")
    count.resolved_by = acting_user
    count.resolved_at = timezone.now()
    count.resolution_note = note
    count.save()
    return count


# --- R-STK-3: destruction of uncollected cards -------------------------------------------------


def _retention_months() -> int:
    return int(settings.CUSTODY_RETENTION_MONTHS)


@service
def destruction_request(*, acting_user: User, card: Card, on: date) -> Destruction:
    """The first member of staff records a card for destruction (R-STK-3)."""
    custody = _locked_custody(card.pk)
    policy.check(policy.may_work_on(acting_user, custody), "このカードは扱えません。")
    card = custody.card
    if card.state != CardState.ARRIVED or custody.state not in (
        CustodyState.IN_PLACE,
        CustodyState.AT_COUNTER,
    ):
        raise ValidationError("保管中の未交付カードだけが廃棄の対象です。")
    assert card.arrived_on is not None  # noqa: S101 - an arrived card has its arrival date
    if not may_destroy(arrived_on=card.arrived_on, today=on, retention_months=_retention_months()):
        raise ValidationError("保管期間が過ぎていないカードは廃棄できません。")
    existing = Destruction.objects.filter(card=card).first()
    if existing is not None:
        return existing
    return Destruction.objects.create(
        card=card,
        office_id=custody.office_id,
        requested_by=acting_user,
        requested_at=timezone.now(),
    )


@service
def destruction_approve(*, acting_user: User, destruction: Destruction, on: date) -> Destruction:
    """The supervisor, a second member of staff, approves: the card is destroyed and its
    application closes as not collected (R-STK-3)."""
    Destruction.objects.select_for_update().filter(pk=destruction.pk).values_list("pk").get()
    destruction = Destruction.objects.get(pk=destruction.pk)
    policy.check(policy.is_supervisor(acting_user), policy.SUPERVISORS_ONLY)
    policy.check(policy.same_office(acting_user, destruction), "この廃棄は承認できません。")
    if destruction.requested_by_id == acting_user.pk:
        raise ValidationError("廃棄を記録した職員とは別の監督者が承認してください。")
    if destruction.approved_by_id is not None:
        raise ValidationError("この廃棄は承認済です。")
    custody = _locked_custody(destruction.card_id)
    card = custody.card
    assert card.arrived_on is not None  # noqa: S101 - checked when it was recorded
    if not may_destroy(arrived_on=card.arrived_on, today=on, retention_months=_retention_months()):
        raise ValidationError("保管期間が過ぎていないカードは廃棄できません。")
    application = Application.objects.filter(new_card_id=card.pk).first()
    if application is None:
        raise ValidationError("このカードの申請が見つかりません。")
    application_close_not_collected(acting_user=acting_user, application=application, on=on)
    _move(acting_user=acting_user, custody=custody, kind=MoveKind.DESTROYED)
    destruction.approved_by = acting_user
    destruction.approved_at = timezone.now()
    destruction.destroyed_on = on
    destruction.save()
    return destruction


# --- daily reconciliation -------------------------------------------------------------------


@service
def reconciliation_record(
    *, acting_user: SystemActor = RECONCILE_JOB, on: date
) -> list[DailyReconciliation]:
    """The daily job: every office's figures for ``on`` (idempotent: a re-run replaces them)."""
    made: list[DailyReconciliation] = []
    for office in Office.objects.order_by("code"):
        figures = reconciliation_figures(office_id=office.pk, on=on)
        row, _ = DailyReconciliation.objects.update_or_create(
            office=office,
            on=on,
            defaults={
                "made_at": timezone.now(),
                "figures": figures.as_json(),
                "problems": figures.problem_count,
            },
        )
        made.append(row)
    return made


__all__ = [
    "Interlock",
    "card_setup_bind",
    "custody_move",
    "daily_count_record",
    "daily_count_resolve",
    "destruction_approve",
    "destruction_request",
    "handover_gate",
    "handover_read_check",
    "lot_receive",
    "place_create",
    "place_set_active",
    "reconciliation_record",
    "second_check_confirm",
    "second_check_request",
]
