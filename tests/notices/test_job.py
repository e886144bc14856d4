"""The notice job against the database: R-NOT-1…3 at the window's edges, R-ISS-1 pickups.

Each test runs the real job (apps.notices.services.notices_run) and reads what it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_order
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.notices import job
from apps.notices.models import Notice, NoticeBatch, NoticeRun
from apps.notices.rules import NoticeKind, expiry_window
from apps.notices.services import notices_run, pickup_notices_create_for_arrivals
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory
from tests.actors import FIXTURES
from tests.factories import bulk_cards, bulk_residents

pytestmark = pytest.mark.django_db


def kinds_for(card: Card) -> list[tuple[str, date]]:
    return sorted(Notice.objects.filter(card=card).values_list("kind", "expires_on"))


def run(on: date) -> dict[str, int]:
    return notices_run(on=on, render=False).created


# --- R-NOT-1: the window --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "due", "not_due"),
    [
        # An ordinary day: exactly three calendar months ahead, not a day more.
        (date(2027, 2, 27), [date(2027, 5, 27)], [date(2027, 5, 28)]),
        # 28 Feb in a common year is a month end: 29, 30 and 31 May clamp onto it.
        (
            date(2027, 2, 28),
            [date(2027, 5, 28), date(2027, 5, 29), date(2027, 5, 31)],
            [date(2027, 6, 1)],
        ),
        # 28 Feb in a leap year is not a month end: 29 May is due only tomorrow.
        (date(2028, 2, 28), [date(2028, 5, 28)], [date(2028, 5, 29)]),
        # 29 Feb: 29, 30 and 31 May are all due (their notice dates clamp to 29 Feb).
        (
            date(2028, 2, 29),
            [date(2028, 5, 29), date(2028, 5, 30), date(2028, 5, 31)],
            [date(2028, 6, 1)],
        ),
        # 30 Sep (month end) → 31 Dec; 30 Apr → 31 Jul.
        (date(2027, 9, 30), [date(2027, 12, 31)], [date(2028, 1, 1)]),
        (date(2028, 4, 30), [date(2028, 7, 30), date(2028, 7, 31)], [date(2028, 8, 1)]),
        # 31 Mar → 30 Jun, and 1 Jul is not due yet.
        (date(2027, 3, 31), [date(2027, 6, 30)], [date(2027, 7, 1)]),
    ],
)
def test_r_not_1_window_boundaries(
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    on: date,
    due: list[date],
    not_due: list[date],
) -> None:
    """R-NOT-1: due from expiry − 3 calendar months, month ends clamped (29 Feb included)."""
    due_cards = [card_expiring(make_resident(office_a), day) for day in due]
    later_cards = [card_expiring(make_resident(office_a), day) for day in not_due]

    created = run(on)

    assert created == {NoticeKind.CARD_EXPIRY.value: len(due)}
    for card in due_cards:
        assert kinds_for(card) == [(NoticeKind.CARD_EXPIRY.value, card.expires_on)]
    for card in later_cards:
        assert kinds_for(card) == []
    # The next day the later ones become due exactly when their notice date arrives.
    for card in later_cards:
        from apps.notices.rules import notice_due_on

        assert card.expires_on is not None
        run(notice_due_on(card.expires_on))
        assert kinds_for(card) == [(NoticeKind.CARD_EXPIRY.value, card.expires_on)]


def test_r_not_1_expiry_on_29_february_is_due_on_29_november(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> None:
    """R-NOT-1: a 29 Feb 2028 expiry is due from 29 Nov 2027, not a day earlier."""
    card = card_expiring(make_resident(office_a), date(2028, 2, 29))
    assert run(date(2027, 11, 28)) == {}
    assert run(date(2027, 11, 29)) == {NoticeKind.CARD_EXPIRY.value: 1}
    assert kinds_for(card) == [(NoticeKind.CARD_EXPIRY.value, date(2028, 2, 29))]


def test_r_not_1_expired_cards_are_past_notice_but_today_is_not(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> None:
    """R-NOT-1/R-NOT-2: a run that missed days still notifies what has not expired yet."""
    on = date(2027, 6, 15)
    yesterday = card_expiring(make_resident(office_a), on - timedelta(days=1))
    today = card_expiring(make_resident(office_a), on)
    assert run(on) == {NoticeKind.CARD_EXPIRY.value: 1}
    assert kinds_for(yesterday) == []
    assert kinds_for(today) == [(NoticeKind.CARD_EXPIRY.value, on)]


# --- R-NOT-2: once --------------------------------------------------------------------------


def test_r_not_2_rerun_creates_nothing_and_the_database_refuses_a_second_notice(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> None:
    """R-NOT-2: one notice per event however often the job runs (also on later days)."""
    card = card_expiring(make_resident(office_a), date(2027, 5, 20))
    assert run(date(2027, 2, 20)) == {NoticeKind.CARD_EXPIRY.value: 1}
    assert run(date(2027, 2, 20)) == {}
    assert run(date(2027, 3, 1)) == {}
    assert Notice.objects.filter(card=card).count() == 1
    notice = Notice.objects.get(card=card)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.create(
            kind=notice.kind,
            resident_id=notice.resident_id,
            card=card,
            expires_on=notice.expires_on,
            created_on=date(2027, 3, 2),
        )


def test_r_not_2_a_changed_expiry_is_a_new_event(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> None:
    """R-NOT-2 with R-VAL-7: after an expiry change the new expiry is a new event."""
    card = card_expiring(make_resident(office_a), date(2027, 5, 20))
    run(date(2027, 2, 20))
    Card.objects.filter(pk=card.pk).update(expires_on=date(2027, 7, 10))
    assert run(date(2027, 4, 10)) == {NoticeKind.CARD_EXPIRY.value: 1}
    assert [day for _, day in kinds_for(card)] == [date(2027, 5, 20), date(2027, 7, 10)]


# --- renewed, voided, returned ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (CardState.ACTIVE, 1),
        (CardState.SUSPENDED, 1),  # still the holder's card: it may be found again
        (CardState.VOID, 0),
        (CardState.RETURNED, 0),
        (CardState.LOST, 0),
        (CardState.EXPIRED, 0),
    ],
)
def test_r_not_1_only_current_cards_get_notices(
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    state: CardState,
    expected: int,
) -> None:
    """R-NOT-1: a card voided, returned, lost or expired before the run gets no notice."""
    card_expiring(make_resident(office_a), date(2027, 5, 20), state=state)
    assert run(date(2027, 3, 1)).get(NoticeKind.CARD_EXPIRY.value, 0) == expected


def test_r_not_1_renewal_already_done_gets_no_notice(
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    card_expiring: Callable[..., Card],
    certificate_on: Callable[..., Any],
) -> None:
    """R-NOT-1: renewal under way (new card ordered or waiting) or done (old card returned)."""
    on = date(2027, 3, 1)
    ordered = make_resident(office_a)
    old_ordered = card_expiring(ordered, date(2027, 5, 20))
    certificate_on(old_ordered, date(2027, 4, 1))
    card_order(acting_user=FIXTURES, resident=ordered, applied_on=date(2027, 2, 1))

    waiting = make_resident(office_a)
    old_waiting = card_expiring(waiting, date(2027, 5, 21))
    make_card(waiting, state=CardState.ARRIVED, issued_on=date(2027, 2, 1))

    done = make_resident(office_a)
    old_done = card_expiring(done, date(2027, 5, 22), state=CardState.RETURNED)
    new_card = card_expiring(done, date(2037, 5, 22))

    created = run(on)

    assert kinds_for(old_ordered) == []
    assert kinds_for(old_waiting) == []
    assert kinds_for(old_done) == []
    assert kinds_for(new_card) == []
    # The waiting card gets its pickup notice and, waiting over a month already, its first
    # reminder to collect (R-STK-3); nothing else gets a letter.
    assert created == {NoticeKind.PICKUP.value: 1, NoticeKind.UNCOLLECTED.value: 1}


# --- certificates ---------------------------------------------------------------------------


def test_r_not_1_certificates_each_expiry_event_once(
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    certificate_on: Callable[..., Any],
) -> None:
    """R-NOT-1/R-NOT-2: a certificate's own expiry is an event; both ending the same day is
    one event for the holder; certificates ending with the card are in the card's letter."""
    on = date(2027, 3, 1)
    both_same_day = card_expiring(make_resident(office_a), date(2032, 1, 10))
    certificate_on(both_same_day, date(2027, 5, 10), kind=CertificateKind.AUTH)
    certificate_on(both_same_day, date(2027, 5, 10), kind=CertificateKind.SIGNING)

    apart = card_expiring(make_resident(office_a), date(2032, 1, 11))
    certificate_on(apart, date(2027, 5, 11), kind=CertificateKind.AUTH)
    certificate_on(apart, date(2027, 6, 10), kind=CertificateKind.SIGNING)  # not due yet

    with_card = card_expiring(make_resident(office_a), date(2027, 5, 12))
    certificate_on(with_card, date(2027, 5, 12), kind=CertificateKind.AUTH)

    revoked = card_expiring(make_resident(office_a), date(2032, 1, 13))
    certificate_on(revoked, date(2027, 5, 13), state=CertificateState.REVOKED)

    created = run(on)

    assert created == {NoticeKind.CERTIFICATE_EXPIRY.value: 2, NoticeKind.CARD_EXPIRY.value: 1}
    assert kinds_for(both_same_day) == [(NoticeKind.CERTIFICATE_EXPIRY.value, date(2027, 5, 10))]
    assert kinds_for(apart) == [(NoticeKind.CERTIFICATE_EXPIRY.value, date(2027, 5, 11))]
    assert kinds_for(with_card) == [(NoticeKind.CARD_EXPIRY.value, date(2027, 5, 12))]
    assert kinds_for(revoked) == []
    # The signing certificate's own notice date comes.
    assert run(date(2027, 3, 9)) == {}
    assert run(date(2027, 3, 10)) == {NoticeKind.CERTIFICATE_EXPIRY.value: 1}
    assert kinds_for(apart)[-1] == (NoticeKind.CERTIFICATE_EXPIRY.value, date(2027, 6, 10))


# --- R-NOT-3: foreign residents ---------------------------------------------------------------


def test_r_not_3_card_ending_with_the_stay_gets_the_city_reminder_not_the_national_notice(
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    certificate_on: Callable[..., Any],
) -> None:
    """R-NOT-3: the card ends with the period of stay (R-VAL-6) → stay reminder only."""
    stay_ends = date(2027, 5, 20)
    resident = make_resident(
        office_a,
        nationality="VN",
        residence=Residence(category=ResidenceCategory.MID_LONG_TERM, period_ends_on=stay_ends),
    )
    card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    assert card.expires_on == stay_ends  # R-VAL-6: the stay, not the 10th birthday
    certificate_on(card, stay_ends)

    assert run(date(2027, 3, 1)) == {NoticeKind.STAY_REMINDER.value: 1}
    assert kinds_for(card) == [(NoticeKind.STAY_REMINDER.value, stay_ends)]
    assert run(date(2027, 3, 2)) == {}


def test_r_not_3_stay_renewed_but_card_not_yet_changed_still_gets_the_reminder(
    office_a: Office, make_resident: Callable[..., Resident], make_card: Callable[..., Card]
) -> None:
    """R-NOT-3: the new period of stay is on file, the card still ends with the old one."""
    resident = make_resident(
        office_a,
        nationality="PH",
        residence=Residence(
            category=ResidenceCategory.MID_LONG_TERM, period_ends_on=date(2027, 5, 20)
        ),
    )
    card = make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    Resident.objects.filter(pk=resident.pk).update(period_of_stay_ends_on=date(2030, 5, 20))
    assert run(date(2027, 3, 1)) == {NoticeKind.STAY_REMINDER.value: 1}
    assert kinds_for(card) == [(NoticeKind.STAY_REMINDER.value, date(2027, 5, 20))]


def test_r_not_3_foreign_residents_on_the_national_rule_get_the_national_notice(
    office_a: Office, make_resident: Callable[..., Resident], make_card: Callable[..., Card]
) -> None:
    """R-NOT-3 does not apply when the card ends on the national date (R-VAL-2): permanent
    residents, and a period of stay that ends after the national date (capped to it)."""
    birth = date(1987, 5, 20)
    permanent = make_resident(
        office_a,
        nationality="KR",
        birth_date=birth,
        residence=Residence(category=ResidenceCategory.PERMANENT),
    )
    long_stay = make_resident(
        office_a,
        nationality="US",
        birth_date=birth,
        residence=Residence(
            category=ResidenceCategory.MID_LONG_TERM, period_ends_on=date(2029, 1, 1)
        ),
    )
    # Issued on the 2017 birthday: valid to the 10th birthday after, 2027-05-20 (R-VAL-2/4).
    cards = [
        make_card(r, applied_on=date(2017, 4, 1), issued_on=date(2017, 5, 20))
        for r in (permanent, long_stay)
    ]
    assert [c.expires_on for c in cards] == [date(2027, 5, 20)] * 2
    assert run(date(2027, 3, 1)) == {NoticeKind.CARD_EXPIRY.value: 2}


# --- R-ISS-1: pickup notices ------------------------------------------------------------------


def test_r_iss_1_pickup_notice_once_per_arrived_card(
    office_a: Office, make_resident: Callable[..., Resident], make_card: Callable[..., Card]
) -> None:
    """R-ISS-1/R-NOT-2: the arrivals import's call creates one pickup notice per card."""
    arrived = [
        make_card(make_resident(office_a), state=CardState.ARRIVED, issued_on=date(2027, 1, 5))
        for _ in range(3)
    ]
    handed = make_card(make_resident(office_a), issued_on=date(2027, 1, 5))
    on = date(2027, 1, 8)

    first = pickup_notices_create_for_arrivals(
        card_ids=[arrived[0].pk, arrived[1].pk, handed.pk], on=on
    )
    assert first.created == {NoticeKind.PICKUP.value: 2}
    assert len(first.batch_ids) == 1
    again = pickup_notices_create_for_arrivals(card_ids=[arrived[0].pk, arrived[1].pk], on=on)
    assert again.created == {}
    assert pickup_notices_create_for_arrivals(card_ids=[], on=on).created == {}
    # The daily job catches up the arrived card nobody told us about.
    assert run(on) == {NoticeKind.PICKUP.value: 1}
    assert Notice.objects.filter(kind=NoticeKind.PICKUP).count() == 3
    assert not Notice.objects.filter(card=handed).exists()
    assert NoticeRun.objects.filter(trigger=NoticeRun.Trigger.ARRIVALS).count() == 2


# --- batches ----------------------------------------------------------------------------------


def test_batches_per_office_and_kind_cut_at_the_batch_size(
    settings: Any,
    office_a: Office,
    office_b: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
) -> None:
    """Letters are grouped by office and kind, numbered in postal-code order, cut at the size."""
    settings.NOTICE_BATCH_SIZE = 2
    for n in range(5):
        card_expiring(make_resident(office_a, postal_code=f"053-000{4 - n}"), date(2027, 5, 20))
    card_expiring(make_resident(office_b), date(2027, 5, 20))

    result = notices_run(on=date(2027, 3, 1), render=False)

    batches = NoticeBatch.objects.order_by("office__code", "sequence")
    assert [(b.office_id, b.sequence, b.notice_count) for b in batches] == [
        (office_a.pk, 0, 2),
        (office_a.pk, 1, 2),
        (office_a.pk, 2, 1),
        (office_b.pk, 0, 1),
    ]
    assert sorted(result.batch_ids) == sorted(b.pk for b in batches)
    for batch in batches:
        assert batch.notices.count() == batch.notice_count
    first = batches[0].notices.order_by("resident__postal_code")
    assert [n.resident.postal_code for n in first] == ["053-0000", "053-0001"]
    # A second run the same day continues the numbering instead of reusing it.
    card_expiring(make_resident(office_a), date(2027, 5, 21))
    notices_run(on=date(2027, 3, 1), render=False)
    assert NoticeBatch.objects.filter(office=office_a).order_by("-sequence")[0].sequence == 3


def test_run_is_recorded_with_counts(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> None:
    card_expiring(make_resident(office_a), date(2027, 5, 20))
    result = notices_run(on=date(2027, 3, 1), render=False)
    recorded = NoticeRun.objects.get(pk=result.run_id)
    assert recorded.finished_at is not None
    assert recorded.created == {NoticeKind.CARD_EXPIRY.value: 1}
    assert recorded.batch_count == 1
    assert recorded.error == ""


# --- the selection is an index range scan -------------------------------------------------------


def _bulk_cards(office: Office, count: int, start: date) -> None:
    """``count`` residents with an active card each, expiries spread over ten years."""
    residents = bulk_residents(office, count)
    cards = bulk_cards(residents, expires_on=lambda n: start + timedelta(days=(n * 3653) // count))
    Certificate.objects.bulk_create(
        Certificate(
            card=card,
            kind=CertificateKind.AUTH,
            serial=f"b{n:x}",
            issued_on=date(2020, 2, 1),
            expires_on=start + timedelta(days=(n * 1826) // count),
        )
        for n, card in enumerate(cards)
    )
    with connection.cursor() as cursor:
        for model in (Resident, Card, Certificate, Notice):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def test_selection_is_an_index_range_scan_over_expiry(office_a: Office) -> None:
    """The job reads the window through card_current_expiry / certificate_active_expiry and
    the arrived cards through a partial index of waiting cards, never by reading every card.

    Three thousand cards over ten years here; bench/notices.py prints the same plans at a
    million. Sequential scans are switched off so that a small table's "read it all" shortcut
    does not hide whether the queries fit the partial indexes (their predicates must match).
    """
    on = date(2027, 3, 1)
    _bulk_cards(office_a, 3000, on)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plans = job.explain(on=on, window=expiry_window(on))
    assert re.search(r"Index Scan (on|using) card_current_expiry", plans["card"])
    assert re.search(r"Index Scan (on|using) certificate_active_expiry", plans["certificate"])
    # The arrived cards: the notice job's own partial index, or the cards app's index of
    # waiting cards (card_waiting, state = 'arrived'), which is narrower still.
    assert re.search(r"notices_card_pending|card_waiting", plans["pickup"])
    for plan in plans.values():
        assert "Seq Scan" not in plan


def test_a_failed_run_leaves_nothing_half_written_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
) -> None:
    """One transaction per run: notices created before the failure are rolled back too."""
    card_expiring(make_resident(office_a), date(2027, 5, 20))

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("disk full for 山田 花子")

    monkeypatch.setattr(job, "create_pickup_notices", broken)
    with pytest.raises(RuntimeError):
        notices_run(on=date(2027, 3, 1), render=False)
    assert not Notice.objects.exists()
    assert not NoticeBatch.objects.exists()
    failed = NoticeRun.objects.get()
    assert failed.error == "RuntimeError"  # the kind only: the message could hold a name
    assert failed.finished_at is not None
