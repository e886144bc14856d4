"""The custody ledger (R-STK-1…3): lots, places, moves, daily counts, uncollected cards."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationState
from apps.applications.services import application_hand_over
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_change_state
from apps.custody.models import (
    CardCustody,
    CustodyMove,
    CustodyState,
    DailyCount,
    Lot,
    MoveKind,
    PlaceKind,
)
from apps.custody.rules import AgeBand, Person, age_band, may_destroy, normalize_serial, shares_name
from apps.custody.selectors import (
    band_counts,
    custody_for,
    custody_history,
    open_count_differences_for,
    reconciliation_figures,
    stock_for,
)
from apps.custody.services import (
    custody_move,
    daily_count_record,
    daily_count_resolve,
    destruction_approve,
    destruction_request,
    lot_receive,
    place_create,
    reconciliation_record,
)
from apps.notices.models import Notice
from apps.notices.rules import NoticeKind
from apps.notices.services import notices_run
from tests.actors import FIXTURES
from tests.custody.conftest import ARRIVED_ON, HANDOVER
from tests.custody.helpers import card_of, place_of, receive, set_up

pytestmark = pytest.mark.django_db


# --- pure rules ---------------------------------------------------------------------------


def test_serials_compare_in_one_spelling() -> None:
    assert normalize_serial("00:A0:01") == normalize_serial("a001") == "a001"
    assert normalize_serial("") == ""


def test_r_stk_3_age_bands_and_retention() -> None:
    arrived = date(2026, 1, 31)
    assert age_band(arrived_on=arrived, today=date(2026, 2, 27)) is AgeBand.UNDER_1
    assert age_band(arrived_on=arrived, today=date(2026, 2, 28)) is AgeBand.FROM_1_TO_3
    assert age_band(arrived_on=arrived, today=date(2026, 4, 30)) is AgeBand.FROM_3_TO_6
    assert age_band(arrived_on=arrived, today=date(2026, 8, 1)) is AgeBand.OVER_6
    assert not may_destroy(arrived_on=arrived, today=date(2026, 7, 31), retention_months=6)
    assert may_destroy(arrived_on=arrived, today=date(2026, 8, 1), retention_months=6)


def test_r_hnd_4_shares_name_rule() -> None:
    me = Person(search_kana="ヤマダハナコ", birth_date=date(1980, 1, 1), household_code="1")
    assert shares_name(me, Person("ヤマダハナコ", date(1990, 1, 1), "1"))
    assert shares_name(me, Person("ヤマダハナコ", date(1980, 1, 1), "9"))
    assert not shares_name(me, Person("ヤマダハナコ", date(1990, 1, 1), "9"))
    assert not shares_name(me, Person("ヤマダタロウ", date(1980, 1, 1), "1"))
    blank = Person(search_kana="ヤマダハナコ", birth_date=date(1980, 1, 1), household_code="")
    assert not shares_name(blank, Person("ヤマダハナコ", date(1990, 1, 1), ""))


# --- R-STK-1 ------------------------------------------------------------------------------


def test_r_stk_1_a_lot_receives_the_days_cards_into_a_place(
    clerk_a: User, make_arrived: Any
) -> None:
    first = make_arrived(family_name_kana="アサイ")
    second = make_arrived(family_name_kana="イノウエ")
    lot = lot_receive(acting_user=clerk_a, place=place_of(clerk_a), arrived_on=ARRIVED_ON)
    assert lot.card_count == 2
    assert lot.number.endswith("-1")
    held = CardCustody.objects.filter(lot=lot).order_by("position")
    assert [c.card_id for c in held] == [first.new_card_id, second.new_card_id]
    assert all(c.state == CustodyState.IN_PLACE and c.place is not None for c in held)
    with pytest.raises(ValidationError, match="受け入れていないカードはありません"):
        lot_receive(acting_user=clerk_a, place=place_of(clerk_a), arrived_on=ARRIVED_ON)


def test_r_stk_1_moves_are_recorded_with_who_and_when(clerk_a: User, arrived: Application) -> None:
    custody = receive(clerk_a, arrived)
    tray = place_of(clerk_a, "交付トレイ")
    card = Card.objects.get(pk=custody.card_id)
    custody_move(acting_user=clerk_a, card=card, to_place=tray)
    custody_move(acting_user=clerk_a, card=card, to_counter=True)
    at_counter = CardCustody.objects.get(pk=card.pk)
    assert at_counter.state == CustodyState.AT_COUNTER
    assert at_counter.counter_id == clerk_a.counter_id
    custody_move(acting_user=clerk_a, card=card, to_place=place_of(clerk_a))
    history = custody_history(custody=at_counter)
    assert [m.kind for m in history] == [
        MoveKind.RECEIVED,
        MoveKind.MOVED,
        MoveKind.TO_COUNTER,
        MoveKind.BACK,
    ]
    assert all(m.moved_by == clerk_a and m.moved_at is not None for m in history)
    # Append-only: the trail cannot be edited or deleted, even by hand.
    with pytest.raises(Exception, match=r"custodymove_append_only|Cannot"), transaction.atomic():
        CustodyMove.objects.filter(card_id=card.pk).update(note="changed")


def test_r_stk_1_the_auditor_reads_any_cards_history_and_the_other_office_none(
    clerk_a: User, clerk_b: User, auditor: User, arrived: Application
) -> None:
    receive(clerk_a, arrived)
    assert custody_for(auditor).filter(pk=arrived.new_card_id).exists()
    assert not custody_for(clerk_b).filter(pk=arrived.new_card_id).exists()


def test_places_are_configured_by_a_supervisor(clerk_a: User, supervisor_a: User) -> None:
    with pytest.raises(PermissionDenied):
        place_create(acting_user=clerk_a, name="金庫2", kind=PlaceKind.SAFE)
    place = place_create(acting_user=supervisor_a, name="金庫2", kind=PlaceKind.SAFE)
    assert place.office_id == supervisor_a.office_id
    with pytest.raises(ValidationError, match="同じ名称"):
        place_create(acting_user=supervisor_a, name="金庫2", kind=PlaceKind.BOX)


# --- R-STK-2 ------------------------------------------------------------------------------


def test_r_stk_2_a_difference_stays_open_until_a_supervisor_resolves_it(
    clerk_a: User, supervisor_a: User, make_arrived: Any
) -> None:
    make_arrived(family_name_kana="カズ")
    make_arrived(family_name_kana="カゾエ")
    lot_receive(acting_user=clerk_a, place=place_of(clerk_a), arrived_on=ARRIVED_ON)
    today = timezone.localdate()
    count = daily_count_record(acting_user=clerk_a, place=place_of(clerk_a), counted=1, on=today)
    assert (count.expected, count.difference, count.is_open) == (2, -1, True)
    assert list(open_count_differences_for(supervisor_a)) == [count]
    with pytest.raises(ValidationError, match="本日点検済"):
        daily_count_record(acting_user=clerk_a, place=place_of(clerk_a), counted=2, on=today)
    with pytest.raises(PermissionDenied):
        daily_count_resolve(acting_user=clerk_a, count=count, note="見つかった")
    with pytest.raises(ValidationError, match="解決の内容"):
        daily_count_resolve(acting_user=supervisor_a, count=count, note=" ")
    daily_count_resolve(acting_user=supervisor_a, count=count, note="交付トレイに1枚あった")
    assert list(open_count_differences_for(supervisor_a)) == []
    # A resolution without its note is refused by the database too.
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyCount.objects.filter(pk=count.pk).update(resolution_note="")


def test_r_stk_2_an_equal_count_opens_nothing(clerk_a: User, arrived: Application) -> None:
    receive(clerk_a, arrived)
    count = daily_count_record(
        acting_user=clerk_a, place=place_of(clerk_a), counted=1, on=timezone.localdate()
    )
    assert not count.is_open


# --- R-STK-3 ------------------------------------------------------------------------------


def test_r_stk_3_one_reminder_per_card_and_age(
    clerk_a: User, arrived: Application, settings: Any
) -> None:
    settings.UNCOLLECTED_REMINDER_MONTHS = (1, 3)
    receive(clerk_a, arrived)
    month_later = ARRIVED_ON + timedelta(days=32)
    notices_run(acting_user=FIXTURES, on=month_later, render=False)
    notices_run(acting_user=FIXTURES, on=month_later, render=False)
    reminders = Notice.objects.filter(card=card_of(arrived), kind=NoticeKind.UNCOLLECTED)
    assert list(reminders.values_list("reminder_months", flat=True)) == [1]
    notices_run(acting_user=FIXTURES, on=ARRIVED_ON + timedelta(days=100), render=False)
    assert sorted(int(m or 0) for m in reminders.values_list("reminder_months", flat=True)) == [
        1,
        3,
    ]
    first = reminders.get(reminder_months=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.create(
            kind=NoticeKind.UNCOLLECTED,
            resident_id=first.resident_id,
            card_id=first.card_id,
            expires_on=first.expires_on + timedelta(days=1),
            created_on=first.created_on,
            reminder_months=1,
        )
    later = ARRIVED_ON + timedelta(days=100)
    stock = stock_for(user=clerk_a, today=later, params={})
    assert [(row.band, row.reminders) for row in stock.rows] == [(AgeBand.FROM_3_TO_6, [1, 3])]
    counts = {b.band: b.count for b in band_counts(user=clerk_a, today=later)}
    assert counts == {
        AgeBand.UNDER_1: 0,
        AgeBand.FROM_1_TO_3: 0,
        AgeBand.FROM_3_TO_6: 1,
        AgeBand.OVER_6: 0,
    }


def test_r_stk_3_destruction_by_two_staff_closes_the_application(
    clerk_a: User, supervisor_a: User, supervisor_a2: User, arrived: Application
) -> None:
    receive(clerk_a, arrived)
    card = card_of(arrived)
    too_early = ARRIVED_ON + timedelta(days=100)
    with pytest.raises(ValidationError, match="保管期間が過ぎていない"):
        destruction_request(acting_user=clerk_a, card=card, on=too_early)
    later = ARRIVED_ON + timedelta(days=200)
    destruction = destruction_request(acting_user=supervisor_a, card=card, on=later)
    with pytest.raises(PermissionDenied):
        destruction_approve(acting_user=clerk_a, destruction=destruction, on=later)
    with pytest.raises(ValidationError, match="別の監督者"):  # the recorder cannot also approve
        destruction_approve(acting_user=supervisor_a, destruction=destruction, on=later)
    destruction_approve(acting_user=supervisor_a2, destruction=destruction, on=later)
    card.refresh_from_db()
    assert card.state == CardState.DESTROYED
    assert card.ended_on == later
    assert Application.objects.get(pk=arrived.pk).state == ApplicationState.NOT_COLLECTED
    assert CardCustody.objects.get(pk=card.pk).state == CustodyState.DESTROYED


def test_r_stk_3_a_destroyed_card_cannot_be_handed_over_or_activated(
    clerk_a: User, supervisor_a: User, supervisor_a2: User, arrived: Application
) -> None:
    set_up(clerk_a, arrived)
    card = card_of(arrived)
    later = ARRIVED_ON + timedelta(days=200)
    destruction = destruction_request(acting_user=clerk_a, card=card, on=later)
    destruction_approve(acting_user=supervisor_a, destruction=destruction, on=later)
    with pytest.raises(ValidationError):
        application_hand_over(acting_user=clerk_a, application=arrived, data=HANDOVER, on=later)
    with pytest.raises(ValidationError):
        card_change_state(acting_user=FIXTURES, card=card, to_state=CardState.ACTIVE, on=later)
    # Not only the services: the database refuses any UPDATE out of "destroyed".
    with pytest.raises(Exception, match="card_destroyed_is_final"), transaction.atomic():
        Card.objects.filter(pk=card.pk).update(state=CardState.ACTIVE)
    with (
        pytest.raises(Exception, match="card_destroyed_is_final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE cards_card SET state = 'active' WHERE id = %s", [card.pk])
    assert Card.objects.get(pk=card.pk).state == CardState.DESTROYED


# --- reconciliation -----------------------------------------------------------------------


def test_reconciliation_counts_handovers_custody_and_blocks(
    clerk_a: User, arrived: Application, make_arrived: Any
) -> None:
    from tests.custody.helpers import ready_to_hand_over

    stray = make_arrived(family_name_kana="ハグレ")
    ready_to_hand_over(clerk_a, arrived)  # receives both of the day's cards in one lot
    application_hand_over(
        acting_user=clerk_a, application=arrived, data=HANDOVER, on=timezone.localdate()
    )
    del stray
    figures = reconciliation_figures(office_id=clerk_a.office_id, on=timezone.localdate())
    assert [(line.handed_over, line.left_custody, line.differs) for line in figures.counters] == [
        (1, 1, False)
    ]
    assert figures.held == 1
    assert figures.not_in_lot == 0
    assert figures.places == 1
    assert figures.counted_places == 0
    rows = reconciliation_record(on=timezone.localdate())
    rows_again = reconciliation_record(on=timezone.localdate())
    assert [r.pk for r in rows] == [r.pk for r in rows_again]  # a re-run replaces, not adds
    mine = next(r for r in rows_again if r.office_id == clerk_a.office_id)
    assert mine.figures["held"] == 1
    assert mine.problems == 1


# --- concurrency: one chip, one card ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_lot_receipts_at_once_put_each_card_in_one_lot(
    clerk_a: User, make_arrived: Any
) -> None:
    make_arrived(family_name_kana="ドウジ")
    make_arrived(family_name_kana="ドウジニ")
    place = place_of(clerk_a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            lot_receive(acting_user=clerk_a, place=place, arrived_on=ARRIVED_ON)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("nothing left")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["nothing left", "ok"]
    assert Lot.objects.count() == 1
    assert CardCustody.objects.count() == 2
