"""Reads of card custody and the handover interlock, scoped with ``policy.restrict``.

Two selectors serve the supervisors' home and reports (the reports app lists them as waiting
items): :func:`open_count_differences_for` and :func:`blocked_handovers_for`.
"""

from __future__ import annotations

import uuid
from collections import Counter as Tally
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import Counter, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState, add_months
from apps.core.paging import Keyset, KeysetPage
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
    SecondCheck,
)
from apps.custody.rules import AgeBand, age_band, may_destroy, retention_ends_on
from apps.residents.models import Resident

HELD = (CustodyState.IN_PLACE, CustodyState.AT_COUNTER)


def day_span(day: date) -> tuple[datetime, datetime]:
    """The instants of one day in the city's time zone (a range, never ``__date``)."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(
        datetime.combine(day + timedelta(days=1), datetime.min.time())
    )


# --- places, lots, the ledger -----------------------------------------------------------------


def places_for(user: User) -> QuerySet[Place]:
    return policy.restrict(Place.objects.all(), user)


def place_get(*, user: User, place_id: uuid.UUID) -> Place:
    try:
        return places_for(user).get(pk=place_id)
    except Place.DoesNotExist:
        raise Http404 from None


def lots_for(user: User) -> QuerySet[Lot]:
    return policy.restrict(Lot.objects.all(), user)


def lot_get(*, user: User, lot_id: uuid.UUID) -> Lot:
    try:
        return lots_for(user).get(pk=lot_id)
    except Lot.DoesNotExist:
        raise Http404 from None


def custody_for(user: User) -> QuerySet[CardCustody]:
    """The ledger rows the user may see: their office's, or every office's for the auditor."""
    return policy.restrict(
        CardCustody.objects.select_related("card__resident", "lot", "place", "counter"),
        user,
        allowed=policy.may_read_custody,
        whole_city=policy.is_auditor,
    )


def custody_get(*, user: User, card_id: uuid.UUID) -> CardCustody:
    try:
        return custody_for(user).get(pk=card_id)
    except CardCustody.DoesNotExist:
        raise Http404 from None


def custody_history(*, custody: CardCustody) -> list[CustodyMove]:
    """Every move of the card, oldest first (R-STK-1); the caller has scoped ``custody``."""
    return list(
        CustodyMove.objects.filter(card_id=custody.card_id)
        .select_related("from_place", "to_place", "counter", "moved_by")
        .order_by("id")
    )


def arrivals_not_received(*, user: User) -> list[tuple[date, int]]:
    """Arrival days of the office with cards not yet in a lot (R-STK-1), oldest first."""
    if not policy.resident_staff(user) or user.office_id is None:
        return []
    rows = (
        Card.objects.filter(office_id=user.office_id, state=CardState.ARRIVED, custody__isnull=True)
        .values("arrived_on")
        .annotate(count=Count("pk"))
        .order_by("arrived_on")
    )
    return [(row["arrived_on"], int(row["count"])) for row in rows if row["arrived_on"] is not None]


def next_to_set_up(*, lot: Lot) -> CardCustody | None:
    """The next card of the lot waiting for pre-handover setup (R-HND-1), in lot order."""
    return (
        CardCustody.objects.filter(
            lot=lot, auth_serial="", state__in=HELD, card__state=CardState.ARRIVED
        )
        .select_related("card__resident", "place")
        .order_by("position")
        .first()
    )


def lot_progress(*, lot: Lot) -> tuple[int, int]:
    """(set up, total) of a lot's cards still held or handed over."""
    rows = CardCustody.objects.filter(lot=lot).aggregate(
        total=Count("pk"), done=Count("pk", filter=~Q(auth_serial=""))
    )
    return int(rows["done"] or 0), int(rows["total"] or 0)


def latest_fresh_read(*, counter_id: Any, fresh_seconds: int) -> CardRead | None:
    """The newest read at the counter if it is within the freshness window (R-HND-2)."""
    read = CardRead.objects.filter(counter_id=counter_id).order_by("-id").first()
    if read is None:
        return None
    now = timezone.now()
    if read.read_at < now - timedelta(seconds=fresh_seconds):
        return None
    return read


# --- R-HND-4: the same name ------------------------------------------------------------------


def same_name_residents(*, resident: Resident) -> QuerySet[Resident]:
    """R-HND-4: other residents of the city sharing the kana name and either the birth date
    or the household (rules.shares_name says the same in pure form)."""
    same = Q(birth_date=resident.birth_date)
    if resident.household_code:
        same |= Q(household_code=resident.household_code)
    return (
        Resident.objects.filter(search_kana=resident.search_kana, left_on__isnull=True)
        .filter(same)
        .exclude(pk=resident.pk)
    )


# --- the interlock as the handover screen shows it ---------------------------------------------


@dataclass(frozen=True)
class InterlockView:
    """The interlock panel of one application for one clerk (read-only)."""

    application: Application
    custody: CardCustody | None
    check: HandoverReadCheck | None  # the newest verdict at the clerk's counter
    current: bool  # that verdict is about the newest read at the counter, and still fresh
    read_name: str
    same_name: list[Resident]
    second_check: SecondCheck | None
    counter: Counter | None

    @property
    def set_up(self) -> bool:
        return self.custody is not None and self.custody.is_set_up

    @property
    def green(self) -> bool:
        return self.current and self.check is not None and self.check.matches

    @property
    def red(self) -> bool:
        return self.current and self.check is not None and not self.check.matches


def interlock_view(*, user: User, application: Application) -> InterlockView:
    custody = (
        CardCustody.objects.filter(pk=application.new_card_id).first()
        if application.new_card_id
        else None
    )
    counter = Counter.objects.filter(pk=user.counter_id).first() if user.counter_id else None
    check = None
    current = False
    read_name = ""
    if counter is not None:
        check = (
            HandoverReadCheck.objects.filter(application=application, counter=counter)
            .select_related("read", "read_resident")
            .order_by("-id")
            .first()
        )
        newest = CardRead.objects.filter(counter=counter).order_by("-id").first()
        fresh = int(settings.HANDOVER_READ_FRESH_SECONDS)
        current = (
            check is not None
            and newest is not None
            and check.read_id == newest.pk
            and newest.read_at >= timezone.now() - timedelta(seconds=fresh)
        )
        if check is not None and check.read_resident is not None:
            read_name = check.read_resident.full_name
    return InterlockView(
        application=application,
        custody=custody,
        check=check,
        current=current,
        read_name=read_name,
        same_name=list(same_name_residents(resident=application.resident)[:5]),
        second_check=SecondCheck.objects.filter(application=application)
        .select_related("requested_by", "confirmed_by")
        .first(),
        counter=counter,
    )


def second_checks_waiting_for(user: User) -> QuerySet[SecondCheck]:
    """R-HND-5: the office's second checks not yet confirmed (to confirm on one's own session)."""
    return (
        policy.restrict(SecondCheck.objects.all(), user)
        .filter(confirmed_at__isnull=True)
        .select_related("application__resident", "requested_by")
        .order_by("requested_at")
    )


def second_check_get(*, user: User, second_check_id: uuid.UUID) -> SecondCheck:
    try:
        return policy.restrict(SecondCheck.objects.all(), user).get(pk=second_check_id)
    except SecondCheck.DoesNotExist:
        raise Http404 from None


# --- waiting items for supervisors (the reports app reads these) -------------------------------


def open_count_differences_for(user: User) -> QuerySet[DailyCount]:
    """R-STK-2: counts whose difference no supervisor has resolved yet, oldest first."""
    return (
        policy.restrict(DailyCount.objects.all(), user)
        .filter(resolved_at__isnull=True)
        .exclude(counted=F("expected"))
        .select_related("place", "counted_by")
        .order_by("counted_on", "id")
    )


def blocked_handovers_for(user: User, on: date) -> QuerySet[HandoverReadCheck]:
    """R-HND-2: reads that blocked a handover on ``on`` (red verdicts), newest first."""
    start, end = day_span(on)
    return (
        policy.restrict(HandoverReadCheck.objects.all(), user)
        .filter(matches=False, checked_at__gte=start, checked_at__lt=end)
        .select_related("application__resident", "read_resident", "counter", "checked_by")
        .order_by("-checked_at", "-id")
    )


# --- R-STK-3: the stock with ages, and what is past retention ----------------------------------


@dataclass(frozen=True)
class StockRow:
    custody: CardCustody
    band: AgeBand
    retention_ends_on: date
    past_retention: bool
    reminders: list[int]
    destruction: Destruction | None


@dataclass(frozen=True)
class Stock:
    """One page of the office's cards in custody, oldest arrival first, and its neighbours."""

    rows: list[StockRow]
    page: KeysetPage[Card]


STOCK_PAGE_SIZE = 100
# Oldest first, then the card's id: one range of the card_waiting index per page.
_STOCK = Keyset(Card, ("arrived_on", "id"))


def stock_for(
    *, user: User, today: date, params: Mapping[str, Any], size: int = STOCK_PAGE_SIZE
) -> Stock:
    """A page of the cards held by the office with their age band (R-STK-3): reminders sent
    and a destruction recorded, each read for the page at once (no query per row)."""
    from apps.notices.models import Notice
    from apps.notices.rules import NoticeKind

    months = int(settings.CUSTODY_RETENTION_MONTHS)
    cards = policy.restrict(
        Card.objects.filter(state=CardState.ARRIVED, custody__state__in=HELD), user
    ).select_related("resident", "custody", "custody__place", "custody__lot")
    page = _STOCK.page(cards, params=params, size=size)
    card_ids = [card.pk for card in page]
    reminders: dict[Any, list[int]] = {}
    for card_id, age in Notice.objects.filter(
        card_id__in=card_ids, kind=NoticeKind.UNCOLLECTED.value
    ).values_list("card_id", "reminder_months"):
        reminders.setdefault(card_id, []).append(int(age or 0))
    destructions = {d.card_id: d for d in Destruction.objects.filter(card_id__in=card_ids)}
    rows = []
    for card in page:
        arrived_on = card.arrived_on or today
        rows.append(
            StockRow(
                custody=card.custody,
                band=age_band(arrived_on=arrived_on, today=today),
                retention_ends_on=retention_ends_on(arrived_on=arrived_on, retention_months=months),
                past_retention=may_destroy(
                    arrived_on=arrived_on, today=today, retention_months=months
                ),
                reminders=sorted(reminders.get(card.pk, [])),
                destruction=destructions.get(card.pk),
            )
        )
    return Stock(rows=rows, page=page)


BAND_CAP = 999


@dataclass(frozen=True)
class BandCount:
    band: AgeBand
    count: int
    more: bool  # more than ``count`` (a big stock is not counted to the end)


def band_counts(*, user: User, today: date) -> list[BandCount]:
    """How many held cards fall in each age band (R-STK-3): one capped range count each, on
    the card_waiting index (office, arrived_on)."""
    held = policy.restrict(
        Card.objects.filter(state=CardState.ARRIVED, custody__state__in=HELD), user
    )
    one, three, six = (add_months(today, -m) for m in (1, 3, 6))
    spans = {
        AgeBand.UNDER_1: Q(arrived_on__gt=one),
        AgeBand.FROM_1_TO_3: Q(arrived_on__lte=one, arrived_on__gt=three),
        AgeBand.FROM_3_TO_6: Q(arrived_on__lte=three, arrived_on__gte=six),
        AgeBand.OVER_6: Q(arrived_on__lt=six),
    }
    out = []
    for band in AgeBand:
        count = held.filter(spans[band])[: BAND_CAP + 1].count()
        out.append(BandCount(band=band, count=min(count, BAND_CAP), more=count > BAND_CAP))
    return out


def destructions_waiting_for(user: User) -> QuerySet[Destruction]:
    return (
        policy.restrict(Destruction.objects.all(), user)
        .filter(approved_at__isnull=True)
        .order_by("requested_at")
    )


def destruction_get(*, user: User, card_id: uuid.UUID) -> Destruction:
    try:
        return policy.restrict(Destruction.objects.all(), user).get(pk=card_id)
    except Destruction.DoesNotExist:
        raise Http404 from None


def counts_for(*, user: User, on: date) -> dict[Any, DailyCount]:
    return {
        count.place_id: count
        for count in policy.restrict(DailyCount.objects.all(), user).filter(counted_on=on)
    }


def count_get(*, user: User, count_id: uuid.UUID) -> DailyCount:
    try:
        return policy.restrict(DailyCount.objects.all(), user).get(pk=count_id)
    except DailyCount.DoesNotExist:
        raise Http404 from None


def held_per_place(*, user: User) -> dict[Any, int]:
    rows = (
        custody_for(user)
        .filter(state=CustodyState.IN_PLACE)
        .values("place_id")
        .annotate(count=Count("pk"))
    )
    return {row["place_id"]: int(row["count"]) for row in rows}


# --- daily reconciliation ---------------------------------------------------------------------


@dataclass
class CounterLine:
    counter: str
    handed_over: int  # applications handed over at this counter (the checklist)
    left_custody: int  # ledger moves "handed over" at this counter
    blocked: int  # red verdicts at this counter

    @property
    def differs(self) -> bool:
        return self.handed_over != self.left_custody


@dataclass
class Figures:
    on: date
    counters: list[CounterLine] = field(default_factory=list)
    held: int = 0
    counted_places: int = 0
    places: int = 0
    count_differences: int = 0
    blocked: int = 0
    not_in_lot: int = 0

    @property
    def problem_count(self) -> int:
        return (
            sum(1 for line in self.counters if line.differs)
            + self.count_differences
            + self.blocked
            + self.not_in_lot
            + (self.places - self.counted_places)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "counters": [
                {
                    "counter": line.counter,
                    "handed_over": line.handed_over,
                    "left_custody": line.left_custody,
                    "blocked": line.blocked,
                }
                for line in self.counters
            ],
            "held": self.held,
            "counted_places": self.counted_places,
            "places": self.places,
            "count_differences": self.count_differences,
            "blocked": self.blocked,
            "not_in_lot": self.not_in_lot,
        }


def reconciliation_figures(*, office_id: Any, on: date) -> Figures:
    """One office's day: handovers per counter against the ledger, the count against the
    ledger, and the reads that blocked a handover."""
    start, end = day_span(on)
    figures = Figures(on=on)
    handed: Tally[str] = Tally()
    counter_names = {
        counter.pk: f"{counter.code} {counter.name}"
        for counter in Counter.objects.filter(office_id=office_id)
    }
    for counter_id in Application.objects.filter(
        office_id=office_id,
        state=ApplicationState.HANDED_OVER,
        handed_over_at__gte=start,
        handed_over_at__lt=end,
    ).values_list("handed_over_by__counter_id", flat=True):
        handed[counter_names.get(counter_id, "窓口未設定")] += 1
    left: Tally[str] = Tally()
    for counter_id in CustodyMove.objects.filter(
        kind=MoveKind.HANDED_OVER,
        moved_at__gte=start,
        moved_at__lt=end,
        counter__office_id=office_id,
    ).values_list("counter_id", flat=True):
        left[counter_names.get(counter_id, "窓口未設定")] += 1
    blocked: Tally[str] = Tally()
    for counter_id in HandoverReadCheck.objects.filter(
        office_id=office_id, matches=False, checked_at__gte=start, checked_at__lt=end
    ).values_list("counter_id", flat=True):
        blocked[counter_names.get(counter_id, "窓口未設定")] += 1
    for name in sorted(set(handed) | set(left) | set(blocked)):
        figures.counters.append(
            CounterLine(
                counter=name,
                handed_over=handed[name],
                left_custody=left[name],
                blocked=blocked[name],
            )
        )
    figures.held = CardCustody.objects.filter(office_id=office_id, state__in=HELD).count()
    figures.places = Place.objects.filter(office_id=office_id, active=True).count()
    counts = DailyCount.objects.filter(office_id=office_id, counted_on=on)
    figures.counted_places = counts.count()
    figures.count_differences = sum(1 for count in counts if count.is_open)
    figures.blocked = sum(blocked.values())
    figures.not_in_lot = Card.objects.filter(
        office_id=office_id, state=CardState.ARRIVED, custody__isnull=True
    ).count()
    return figures


def reconciliation_for(*, user: User, on: date) -> Figures:
    """The reconciliation screen of the user's office (computed live, as the job does)."""
    if not policy.resident_staff(user):
        raise Http404
    return reconciliation_figures(office_id=user.office_id, on=on)


def reconciliations_for(user: User) -> QuerySet[DailyReconciliation]:
    return policy.restrict(DailyReconciliation.objects.all(), user).order_by("-on")
