"""Every write to a card. Each function is one service (apps.core.service: a transaction whose
history rows name the actor) that locks the card it changes; ``cards_arrive_bulk`` does the
same for a whole J-LIS arrivals file, set-based."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.cards.models import (
    CURRENT_STATES,
    Card,
    ContinuedUse,
    Endorsement,
    ExpiryChange,
    ExpiryChangeKind,
)
from apps.cards.rules import (
    END_STATES,
    CardState,
    ContinuedUseVoid,
    EndorsementKind,
    can_transition,
    card_expiry,
    continued_use_deadline,
    endorsement_field_full,
    photo_less,
)
from apps.core.service import SystemActor, service
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory

logger = logging.getLogger(__name__)

# The daily job that moves cards whose expiry has passed (apps.cards.tasks).
EXPIRY_JOB = SystemActor("cards.expire_due")
EXPIRY_REASON = "有効期限の到来"


def _locked(card: Card) -> Card:
    return Card.objects.select_for_update().select_related("resident").get(pk=card.pk)


@service
def card_order(
    *,
    acting_user: User | SystemActor,
    resident: Resident,
    applied_on: date,
    former_surname_listed: bool = False,
) -> Card:
    """A card application was accepted and the card ordered from J-LIS (R-ISS-1).

    A child under one applying from 2024-12-02 gets a card without a photo (R-EXP-4).
    """
    Resident.objects.select_for_update().filter(pk=resident.pk).first()
    if former_surname_listed and not resident.former_surname:
        raise ValidationError("旧氏が登録されていないため、旧氏併記はできません。")
    return Card.objects.create(
        resident=resident,
        # The card is delivered to the office that keeps the holder's register.
        office_id=resident.office_id,
        state=CardState.ORDERED,
        applied_on=applied_on,
        former_surname_listed=former_surname_listed,
        photo_less=photo_less(birth_date=resident.birth_date, applied_on=applied_on),
    )


@service
def card_arrive(
    *, acting_user: User | SystemActor, card: Card, issued_on: date, arrived_on: date
) -> Card:
    """J-LIS made the card on `issued_on` (R-VAL-1) and it reached the city on `arrived_on`.

    The expiry is computed here, once, from the issue date (R-VAL-2…6).
    """
    card = _locked(card)
    _check_transition(card, CardState.ARRIVED)
    if arrived_on < issued_on:
        raise ValidationError("到着日が発行日より前になっています。")
    resident = card.resident
    card.issued_on = issued_on
    try:
        card.expires_on = card_expiry(
            birth_date=resident.birth_date,
            issued_on=issued_on,
            applied_on=card.applied_on,
            residence=resident.residence,
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    card.arrived_on = arrived_on
    card.state = CardState.ARRIVED
    card.save()
    return card


@service
def card_hand_over(*, acting_user: User | SystemActor, card: Card, on: date) -> Card:
    """The card is handed to the holder and becomes their current card."""
    card = _locked(card)
    _check_transition(card, CardState.ACTIVE)
    if card.expires_on is not None and on > card.expires_on:
        raise ValidationError("有効期限を過ぎたカードは交付できません。")
    others = (
        Card.objects.select_for_update()
        .filter(resident_id=card.resident_id, state__in=CURRENT_STATES)
        .exclude(pk=card.pk)
    )
    if others.exists():
        # R-REI-2: the old card must be returned (or recorded lost) before the new one is given.
        raise ValidationError("以前のカードが返納または紛失の手続をされていません。")
    card.state = CardState.ACTIVE
    card.handed_over_on = on
    card.save()
    return card


@service
def card_change_state(
    *, acting_user: User | SystemActor, card: Card, to_state: CardState, on: date, reason: str = ""
) -> Card:
    """Move a card along the transition table (apps.cards.rules.CARD_TRANSITIONS).

    Ending states record the day and the reason. This is the card alone: a card that carries
    e-certificates is ended through apps.certificates.services.card_end, which ends them with
    it (R-CRT-5). The cards app knows nothing of certificates (they sit above it).
    """
    card = _locked(card)
    _check_transition(card, to_state)
    card.state = to_state
    if to_state in END_STATES:
        card.ended_on = on
        card.end_reason = reason
    try:
        card.save()
    except IntegrityError:
        raise ValidationError("この住民には既に有効なカードがあります。") from None
    return card


def _check_transition(card: Card, to_state: CardState) -> None:
    if not can_transition(CardState(card.state), to_state):
        raise ValidationError(
            f"カードの状態を「{CardState(card.state).label}」から「{to_state.label}」に変更できません。"
        )


# --- arrivals, set-based --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardArrival:
    """One card J-LIS made on ``issued_on`` that reached the office on ``arrived_on``."""

    card_id: uuid.UUID
    issued_on: date
    arrived_on: date


@dataclass(frozen=True, slots=True)
class CardArrivalProblem:
    """Why arrival number ``index`` (0-based, in the order given) cannot be recorded."""

    index: int
    code: str  # "unknown", "state", "arrived_other_dates", "expiry"
    state: CardState | None = None
    detail: str = ""


class CardArrivalsRefused(ValidationError):
    """Nothing was recorded; ``problems`` say which arrivals were wrong and why."""

    def __init__(self, problems: list[CardArrivalProblem]) -> None:
        self.problems = problems
        super().__init__([f"{len(problems)}件のカードの到着を記録できません。"])


@dataclass(frozen=True, slots=True)
class CardsArrived:
    moved: tuple[uuid.UUID, ...]  # ORDERED → ARRIVED now, in the order given
    already: int  # had arrived before with the same dates: nothing to do


# (phase, done, total): how far the bulk has got, for a progress bar.
Progress = Callable[[str, int, int], None]

# Rows per UPDATE when the cards move: small enough to report progress, large enough that
# the statements stay few (the history trigger runs per row either way).
ARRIVE_CHUNK = 5_000


def _residence(
    category: str, period_ends_on: date | None, event_on: date | None
) -> Residence | None:
    # Same as Resident.residence, on raw columns.
    if not category:
        return None
    return Residence(
        category=ResidenceCategory(category), period_ends_on=period_ends_on, event_on=event_on
    )


@service
def cards_arrive_bulk(
    *,
    acting_user: User | SystemActor,
    office_id: uuid.UUID,
    arrivals: Sequence[CardArrival],
    progress: Progress | None = None,
    max_problems: int = 20,
) -> CardsArrived:
    """Record many arrivals at once, exactly as ``card_arrive`` would one by one (R-ISS-1).

    Each card of ``office_id``'s residents moves ORDERED → ARRIVED with its issue date,
    arrival date and the expiry from ``card_expiry`` (R-VAL-1…6, the one implementation); a
    card that already arrived with the same dates is counted, not changed. All or nothing:
    any unknown card (or one of another office: not revealed), any card in another state, any
    expiry that cannot be computed refuses the whole set (``CardArrivalsRefused``, at most
    ``max_problems`` listed). The caller checks the rows themselves (dates in order, not in
    the future, no card twice). History rows come from the pghistory triggers, one per card.

    Set-based for 100,000-card files: COPY into a temporary table, check in SQL, compute
    the expiries in one Python pass, COPY them back and UPDATE … FROM in chunks (``progress``
    is told after each). The history rows name ``acting_user`` (the member of staff who
    uploaded the file, through the import's task).
    """
    cards = Card._meta.db_table
    residents = Resident._meta.db_table
    suffix = uuid.uuid4().hex[:12]
    given, expiry = f"arrive_given_{suffix}", f"arrive_exp_{suffix}"
    total = len(arrivals)
    if total == 0:
        return CardsArrived(moved=(), already=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {given} (idx integer PRIMARY KEY, card_id uuid NOT NULL, "
            "issued_on date NOT NULL, arrived_on date NOT NULL) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            f"COPY {given} (idx, card_id, issued_on, arrived_on) FROM STDIN"
        ) as copy:
            for index, arrival in enumerate(arrivals):
                copy.write_row((index, arrival.card_id, arrival.issued_on, arrival.arrived_on))
        cursor.execute(f"CREATE INDEX ON {given} (card_id)")
        cursor.execute(f"ANALYZE {given}")

        # Lock the office's cards named here, then decide on what is committed. Cards of
        # other offices are "unknown": an import must not reveal that a card exists elsewhere.
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM "  # noqa: S608 - names from models
            f"{cards} c JOIN {given} g ON g.card_id = c.id "
            f"JOIN {residents} r ON r.id = c.resident_id AND r.office_id = %s "
            "ORDER BY c.id FOR UPDATE OF c) locked",
            [office_id],
        )
        cursor.execute(
            "SELECT idx, problem, state FROM (SELECT g.idx, CASE "  # noqa: S608
            "WHEN c.id IS NULL THEN 'unknown' "
            "WHEN c.state = %s THEN NULL "
            "WHEN c.state = %s AND c.issued_on = g.issued_on AND c.arrived_on = g.arrived_on "
            "THEN NULL "
            "WHEN c.state = %s THEN 'arrived_other_dates' "
            "ELSE 'state' END AS problem, c.state "
            f"FROM {given} g LEFT JOIN ({cards} c JOIN {residents} r "
            "ON r.id = c.resident_id AND r.office_id = %s) ON c.id = g.card_id) checked "
            "WHERE problem IS NOT NULL ORDER BY idx LIMIT %s",
            [
                CardState.ORDERED.value,
                CardState.ARRIVED.value,
                CardState.ARRIVED.value,
                office_id,
                max_problems,
            ],
        )
        problems = [
            CardArrivalProblem(index=idx, code=code, state=CardState(state) if state else None)
            for idx, code, state in cursor.fetchall()
        ]
        if problems:
            raise CardArrivalsRefused(problems)
        if progress:
            progress("check", total, total)

        # The expiry of each card from the one implementation of R-VAL-1…6.
        cursor.execute(
            "SELECT g.idx, g.card_id, g.issued_on, c.applied_on, r.birth_date, "  # noqa: S608
            "r.residence_category, r.period_of_stay_ends_on, r.residence_event_on "
            f"FROM {given} g JOIN {cards} c ON c.id = g.card_id "
            f"JOIN {residents} r ON r.id = c.resident_id WHERE c.state = %s ORDER BY g.idx",
            [CardState.ORDERED.value],
        )
        expiries: list[tuple[int, uuid.UUID, date]] = []
        for (
            idx,
            card_id,
            issued_on,
            applied_on,
            birth_date,
            category,
            period,
            event,
        ) in cursor.fetchall():
            try:
                expires_on = card_expiry(
                    birth_date=birth_date,
                    issued_on=issued_on,
                    applied_on=applied_on,
                    residence=_residence(category, period, event),
                )
            except ValueError as exc:
                problems.append(CardArrivalProblem(index=idx, code="expiry", detail=str(exc)))
                if len(problems) >= max_problems:
                    break
                continue
            expiries.append((len(expiries), card_id, expires_on))
        if problems:
            raise CardArrivalsRefused(problems)

        cursor.execute(
            f"CREATE TEMP TABLE {expiry} (seq integer PRIMARY KEY, card_id uuid NOT NULL, "
            "expires_on date NOT NULL) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY {expiry} (seq, card_id, expires_on) FROM STDIN") as copy:
            for row in expiries:
                copy.write_row(row)
        cursor.execute(f"ANALYZE {expiry}")

        now = timezone.now()
        moved = 0
        for start in range(0, len(expiries), ARRIVE_CHUNK):
            cursor.execute(
                f"UPDATE {cards} c SET state = %s, issued_on = g.issued_on, "  # noqa: S608
                "arrived_on = g.arrived_on, expires_on = e.expires_on, updated_at = %s "
                f"FROM {expiry} e JOIN {given} g ON g.card_id = e.card_id "
                "WHERE e.seq >= %s AND e.seq < %s AND c.id = e.card_id AND c.state = %s",
                [
                    CardState.ARRIVED.value,
                    now,
                    start,
                    start + ARRIVE_CHUNK,
                    CardState.ORDERED.value,
                ],
            )
            moved += cursor.rowcount
            if progress:
                progress("cards", min(start + ARRIVE_CHUNK, len(expiries)), len(expiries))
        # The rows were locked above, so nothing could have changed them since.
        if moved != len(expiries):  # pragma: no cover - a broken lock would show here
            raise ValidationError(
                "カードの状態が取込中に変わりました。もう一度取り込んでください。"
            )
        for table in (given, expiry):
            cursor.execute(f"DROP TABLE {table}")
    return CardsArrived(
        moved=tuple(card_id for _, card_id, _ in expiries), already=total - len(expiries)
    )


@service
def cards_expire_due(*, acting_user: User | SystemActor = EXPIRY_JOB, on: date) -> int:
    """Cards in use whose expiry has passed by ``on`` become EXPIRED (R-VAL; run daily).

    A card is valid through its expiry date, so a card expiring on ``on`` stays in use that
    day. One set-based UPDATE over the partial index of current cards by expiry; the history
    triggers write one row per card, naming the job. Idempotent: a second run finds nothing.
    The ended day is the last valid day. Certificates expire by their own (earlier or equal)
    dates in certificates_expire_due.
    """
    moved = Card.objects.filter(state__in=CURRENT_STATES, expires_on__lt=on).update(
        state=CardState.EXPIRED,
        ended_on=F("expires_on"),
        end_reason=EXPIRY_REASON,
        updated_at=timezone.now(),
    )
    logger.info("cards expired: on=%s count=%d", on.isoformat(), moved)
    return moved


# --- issue 10: the endorsement field, continued use, expiry changes ---------------------


class EndorsementFieldFull(ValidationError):
    """The endorsement field has no free line: the holder may have a free reissue (R-CHG-2)."""


def endorsement_capacity() -> int:
    """The entries a card's endorsement field holds (policy, a setting: R-CHG-2)."""
    return int(settings.ENDORSEMENT_CAPACITY)


@service
def card_endorse(
    *,
    acting_user: User,
    card: Card,
    kind: EndorsementKind,
    text: str,
    on: date,
) -> Endorsement:
    """Write one entry in the card's endorsement field and on the chip (R-CHG-1, R-CHG-3).

    Only a card in use can be written on. The card is locked first and its entries counted
    after the lock, so two clerks at once cannot both take the last line
    (``endorsement_card_seq`` backs it). A full field raises :class:`EndorsementFieldFull`.
    """
    card = _locked(card)
    if card.state not in (CardState.ACTIVE, CardState.SUSPENDED):
        raise ValidationError(f"「{card.state_enum.label}」のカードには追記できません。")
    text = text.strip()
    if not text or len(text) > 300:
        raise ValidationError("追記する内容は1文字以上300文字以内にしてください。")
    used = Endorsement.objects.filter(card=card).count()
    capacity = endorsement_capacity()
    if endorsement_field_full(used=used, capacity=capacity):
        raise EndorsementFieldFull(
            f"追記欄に余白がありません（{capacity}件記載済）。"
            "追記欄の余白不足による再交付（無料）、または特急発行を案内してください。"
        )
    try:
        with transaction.atomic():
            return Endorsement.objects.create(
                card=card,
                seq=used + 1,
                kind=kind,
                written_on=on,
                text=text,
                chip_rewritten=True,
                written_by=acting_user,
            )
    except IntegrityError:  # pragma: no cover - the lock above serialises writers
        raise ValidationError("同時に追記が行われました。画面を開き直してください。") from None


@service
def card_record_issued(*, acting_user: User | SystemActor, card: Card, issued_on: date) -> Card:
    """J-LIS made an express card on ``issued_on`` (R-VAL-1) and posts it to the holder
    (R-EXP-3): the card stays ORDERED, with its issue date and expiry (R-VAL-2…6), because
    it never reaches the city's stock; it arrives (at the holder or back at the city) later
    through :func:`card_arrive`, which keeps these dates."""
    card = _locked(card)
    if card.state != CardState.ORDERED:
        raise ValidationError(f"「{card.state_enum.label}」のカードの発行は記録できません。")
    if issued_on < card.applied_on:
        raise ValidationError({"issued_on": "発行日が申請受付日より前になっています。"})
    resident = card.resident
    try:
        expires_on = card_expiry(
            birth_date=resident.birth_date,
            issued_on=issued_on,
            applied_on=card.applied_on,
            residence=resident.residence,
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    card.issued_on = issued_on
    card.expires_on = expires_on
    card.save(update_fields=["issued_on", "expires_on", "updated_at"])
    return card


@service
def card_list_former_surname(*, acting_user: User, card: Card) -> Card:
    """The card shows the former surname from now on (R-CHG-3; the endorsement says so)."""
    card = _locked(card)
    if card.former_surname_listed:
        raise ValidationError("このカードには既に旧氏が併記されています。")
    card.former_surname_listed = True
    card.save(update_fields=["former_surname_listed", "updated_at"])
    return card


@service
def card_change_expiry(
    *,
    acting_user: User,
    card: Card,
    kind: ExpiryChangeKind,
    requested_on: date,
    new_expires_on: date,
    new_period_ends_on: date,
    proof: str,
) -> ExpiryChange:
    """Move a foreign resident's card expiry and record the proof seen (R-VAL-7).

    The dates come from apps.cards.rules (expiry_change / special_period_extension), which
    the caller has applied; this writes them. A special extension sets
    ``Card.expiry_extended``; ``expirychange_special_once_per_card`` backs "once". The
    e-certificates are not touched (R-VAL-7).
    """
    card = _locked(card)
    if card.state not in (CardState.ACTIVE, CardState.SUSPENDED) or card.expires_on is None:
        raise ValidationError(f"「{card.state_enum.label}」のカードの有効期限は変更できません。")
    proof = proof.strip()
    if not proof or len(proof) > 200:
        raise ValidationError({"proof": "確認した書類を200文字以内で記録してください。"})
    special = kind == ExpiryChangeKind.SPECIAL_EXTENSION
    if special and card.expiry_extended:
        raise ValidationError("特例期間による有効期限の延長は1回限りです。")
    old = card.expires_on
    card.expires_on = new_expires_on
    if special:
        card.expiry_extended = True
    card.save(update_fields=["expires_on", "expiry_extended", "updated_at"])
    try:
        with transaction.atomic():
            return ExpiryChange.objects.create(
                card=card,
                kind=kind,
                requested_on=requested_on,
                old_expires_on=old,
                new_expires_on=new_expires_on,
                new_period_ends_on=new_period_ends_on,
                proof=proof,
            )
    except IntegrityError:  # pragma: no cover - the flag under the lock answers first
        raise ValidationError("特例期間による有効期限の延長は1回限りです。") from None


@service
def continued_use_open(
    *,
    acting_user: User,
    card: Card,
    planned_move_out_on: date,
    moved_in_on: date,
    move_in_notice_on: date,
) -> ContinuedUse:
    """Record the move-in of a card brought from another city (R-CHG-4).

    One open record per card (``continueduse_one_open_per_card``).
    """
    card = _locked(card)
    if move_in_notice_on < moved_in_on:
        raise ValidationError({"move_in_notice_on": "転入届の日が転入日より前です。"})
    if ContinuedUse.objects.filter(
        card=card, registered_on__isnull=True, voided_on__isnull=True
    ).exists():
        raise ValidationError("このカードには手続待ちの転入の記録があります。")
    return ContinuedUse.objects.create(
        card=card,
        office_id=card.resident.office_id,
        planned_move_out_on=planned_move_out_on,
        moved_in_on=moved_in_on,
        move_in_notice_on=move_in_notice_on,
        register_by=continued_use_deadline(move_in_notice_on=move_in_notice_on),
    )


@service
def continued_use_close(
    *,
    acting_user: User | SystemActor,
    continued_use: ContinuedUse,
    on: date,
    void_reason: ContinuedUseVoid | None,
) -> ContinuedUse:
    """Close an open record: registered on ``on`` (None) or void for ``void_reason``.

    Locked, then read: a record the daily job closed a moment ago is not closed twice.
    """
    row = ContinuedUse.objects.select_for_update().get(pk=continued_use.pk)
    if row.registered_on is not None or row.voided_on is not None:
        raise ValidationError("この転入の記録は手続が済んでいます。")
    if void_reason is None:
        row.registered_on = on
    else:
        row.voided_on = on
        row.void_reason = void_reason.value
    row.save()
    return row
