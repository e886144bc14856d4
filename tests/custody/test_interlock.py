"""The handover interlock (R-HND-1…5): the right card, to the right person, checked twice
where it must be. Every handover goes through apps.applications.services.application_hand_over,
which asks apps.custody's gate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationState, IdentityDocument
from apps.applications.services import HandoverInput, application_hand_over
from apps.audit.models import AccessLog, Action, Outcome
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.custody.models import (
    CardCustody,
    CustodyMove,
    CustodyState,
    HandoverReadCheck,
    MoveKind,
    SecondCheck,
    SecondCheckReason,
)
from apps.custody.rules import Verdict
from apps.custody.selectors import blocked_handovers_for, interlock_view
from apps.custody.services import (
    handover_read_check,
    second_check_confirm,
    second_check_request,
)
from apps.notices.models import Notice
from apps.notices.rules import NoticeKind, format_reference_code
from apps.notices.services import pickup_notices_create_for_arrivals
from tests.custody.conftest import HANDOVER
from tests.custody.helpers import new_serial, read_card, ready_to_hand_over, set_up

pytestmark = pytest.mark.django_db


def _hand_over(user: User, application: Application, data: HandoverInput = HANDOVER) -> Any:
    return application_hand_over(
        acting_user=user, application=application, data=data, on=timezone.localdate()
    )


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.messages)


# --- R-HND-1 ---------------------------------------------------------------------------------


def test_r_hnd_1_a_card_without_setup_cannot_be_handed_over(
    clerk_a: User, arrived: Application
) -> None:
    with pytest.raises(ValidationError) as refused:
        _hand_over(clerk_a, arrived)
    assert "交付前設定" in _messages(refused)
    assert Application.objects.get(pk=arrived.pk).state == ApplicationState.ARRIVED


def test_r_hnd_1_setup_binds_the_serial_once(clerk_a: User, make_arrived: Any) -> None:
    first = make_arrived(family_name_kana="イチ")
    second = make_arrived(family_name_kana="ニ")
    serial = new_serial()
    custody = set_up(clerk_a, first, serial)
    assert custody.auth_serial == serial
    assert custody.set_up_by == clerk_a
    # The same chip read again for the next card of the lot: refused with the first name.
    with pytest.raises(ValidationError, match=r"既に.*さんのカード"):
        set_up(clerk_a, second, serial)
    assert not CardCustody.objects.get(pk=second.new_card_id).is_set_up
    # The database says so too (a second binding of one chip).
    with pytest.raises(IntegrityError), transaction.atomic():
        CardCustody.objects.filter(pk=second.new_card_id).update(
            auth_serial=serial, set_up_at=timezone.now(), set_up_by=clerk_a
        )


# --- R-HND-2 ---------------------------------------------------------------------------------


def test_r_hnd_2_the_right_card_turns_green_and_hands_over(
    clerk_a: User, arrived: Application
) -> None:
    custody = ready_to_hand_over(clerk_a, arrived)
    view = interlock_view(user=clerk_a, application=arrived)
    assert view.green
    assert not view.red
    done = _hand_over(clerk_a, arrived)
    assert done.state == ApplicationState.HANDED_OVER
    custody.refresh_from_db()
    assert custody.state == CustodyState.HANDED_OVER
    assert custody.place is None
    last = CustodyMove.objects.filter(card_id=custody.card_id).order_by("-id").first()
    assert last is not None
    assert last.kind == MoveKind.HANDED_OVER
    assert last.counter_id == clerk_a.counter_id
    assert last.moved_by == clerk_a


def test_r_hnd_2_another_card_blocks_and_is_logged(clerk_a: User, make_arrived: Any) -> None:
    mine = make_arrived(family_name_kana="ミギ", given_name_kana="イチロウ")
    other = make_arrived(family_name_kana="ヒダリ", given_name_kana="ジロウ")
    set_up(clerk_a, mine)
    other_custody = set_up(clerk_a, other)
    assert clerk_a.counter is not None
    read_card(clerk_a.counter, other_custody.auth_serial)  # the wrong card in the clerk's hand

    interlock = handover_read_check(acting_user=clerk_a, application=mine)
    assert interlock.verdict is Verdict.MISMATCH
    assert interlock.read_name == other.resident.full_name
    # Committed on its own: the red verdict and its access-log rows stay.
    rows = AccessLog.objects.filter(action=Action.HANDOVER_BLOCKED)
    assert {row.resident_id for row in rows} == {mine.resident_id, other.resident_id}
    assert all(row.outcome == Outcome.DENIED for row in rows)
    # A second look at the same read writes nothing more.
    handover_read_check(acting_user=clerk_a, application=mine)
    assert rows.count() == 2

    with pytest.raises(ValidationError, match="一致しない"):
        _hand_over(clerk_a, mine)
    assert Card.objects.get(pk=mine.new_card_id).state == CardState.ARRIVED
    view = interlock_view(user=clerk_a, application=mine)
    assert view.red
    assert view.read_name == other.resident.full_name
    assert list(blocked_handovers_for(clerk_a, timezone.localdate())) == [interlock.check]


def test_r_hnd_2_a_read_older_than_the_window_does_not_count(
    clerk_a: User, arrived: Application, settings: Any
) -> None:
    custody = set_up(clerk_a, arrived)
    assert clerk_a.counter is not None
    stale = timezone.now() - timedelta(seconds=settings.HANDOVER_READ_FRESH_SECONDS + 30)
    read_card(clerk_a.counter, custody.auth_serial, read_at=stale)
    assert handover_read_check(acting_user=clerk_a, application=arrived).verdict is Verdict.WAITING
    with pytest.raises(ValidationError, match="読み取り、照合してください"):
        _hand_over(clerk_a, arrived)


def test_r_hnd_2_a_read_that_went_stale_after_its_check_does_not_count(
    clerk_a: User, arrived: Application, settings: Any
) -> None:
    ready_to_hand_over(clerk_a, arrived)
    settings.HANDOVER_READ_FRESH_SECONDS = 0  # the window has passed since the check
    with pytest.raises(ValidationError, match="古くなっています"):
        _hand_over(clerk_a, arrived)


def test_r_hnd_2_a_read_at_another_counter_does_not_count(
    clerk_a: User, clerk_a2: User, arrived: Application
) -> None:
    custody = set_up(clerk_a, arrived)
    assert clerk_a2.counter is not None
    read_card(clerk_a2.counter, custody.auth_serial)  # the right card, on counter 2's reader
    assert handover_read_check(acting_user=clerk_a, application=arrived).verdict in (
        Verdict.WAITING,
        Verdict.MATCH,  # counter 1's own newest read was its setup read of this very card
    )
    # Counter 2 judged it green, but clerk 1 at counter 1 hands over: nothing at counter 1.
    assert handover_read_check(acting_user=clerk_a2, application=arrived).verdict is Verdict.MATCH
    assert clerk_a.counter is not None
    read_card(clerk_a.counter, new_serial())  # counter 1 now reads some other card
    with pytest.raises(ValidationError):
        _hand_over(clerk_a, arrived)


def test_r_hnd_2_a_newer_read_must_be_judged_again(clerk_a: User, arrived: Application) -> None:
    ready_to_hand_over(clerk_a, arrived)
    assert clerk_a.counter is not None
    read_card(clerk_a.counter, new_serial())  # another card put down after the green check
    with pytest.raises(ValidationError, match="読み取り、照合してください"):
        _hand_over(clerk_a, arrived)


# --- R-HND-3 ---------------------------------------------------------------------------------


def test_r_hnd_3_the_reference_code_must_name_this_card(clerk_a: User, make_arrived: Any) -> None:
    mine = make_arrived(family_name_kana="ツウチ")
    other = make_arrived(family_name_kana="ベツ")
    pickup_notices_create_for_arrivals(
        card_ids=[mine.new_card_id, other.new_card_id], on=timezone.localdate()
    )
    pickup = Notice.objects.get(card_id=mine.new_card_id, kind=NoticeKind.PICKUP)
    foreign = Notice.objects.get(card_id=other.new_card_id, kind=NoticeKind.PICKUP)
    ready_to_hand_over(clerk_a, mine)
    base = dict(
        documents=HANDOVER.documents, pins_set=True, notification_card=HANDOVER.notification_card
    )
    with pytest.raises(ValidationError, match="整理番号を読み取るか"):
        _hand_over(clerk_a, mine, HandoverInput(**base))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="この申請のカードの交付通知書ではありません"):
        _hand_over(
            clerk_a,
            mine,
            HandoverInput(**base, reference_code=foreign.reference_code),  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError, match="検査数字"):
        _hand_over(clerk_a, mine, HandoverInput(**base, reference_code="N00000000010"))  # type: ignore[arg-type]
    typed = format_reference_code(pickup.reference_code)  # N-00000-00001-8, as read aloud
    done = _hand_over(clerk_a, mine, HandoverInput(**base, reference_code=typed))  # type: ignore[arg-type]
    assert done.state == ApplicationState.HANDED_OVER


# --- R-HND-4 ---------------------------------------------------------------------------------


def test_r_hnd_4_same_kana_name_and_household_needs_a_second_document(
    clerk_a: User, make_arrived: Any, make_resident: Any, office_a: Any
) -> None:
    from datetime import date

    mine = make_arrived(
        family_name_kana="ドウメイ",
        given_name_kana="ハナコ",
        household_code="H0001",
        birth_date=date(1960, 1, 1),
    )
    # Same kana name, same household, another birth date (a grandmother and her namesake).
    make_resident(
        office_a,
        family_name_kana="ドウメイ",
        given_name_kana="ハナコ",
        household_code="H0001",
        birth_date=date(1990, 5, 5),
    )
    # Same kana in another household with another birth date: not a warning on its own.
    view = interlock_view(user=clerk_a, application=mine)
    assert [r.household_code for r in view.same_name] == ["H0001"]
    ready_to_hand_over(clerk_a, mine)
    with pytest.raises(ValidationError, match="同姓同名"):
        _hand_over(clerk_a, mine)
    same_doc = HandoverInput(
        documents=HANDOVER.documents,
        pins_set=True,
        notification_card=HANDOVER.notification_card,
        extra_identity_check=True,
        second_document=IdentityDocument.DRIVERS_LICENSE,
    )
    with pytest.raises(ValidationError, match="1点目と別の書類"):
        _hand_over(clerk_a, mine, same_doc)
    second = HandoverInput(
        documents=HANDOVER.documents,
        pins_set=True,
        notification_card=HANDOVER.notification_card,
        extra_identity_check=True,
        second_document=IdentityDocument.PASSPORT,
    )
    assert _hand_over(clerk_a, mine, second).state == ApplicationState.HANDED_OVER


def test_r_hnd_4_other_household_and_birth_date_is_no_warning(
    clerk_a: User, make_arrived: Any, make_resident: Any, office_a: Any
) -> None:
    from datetime import date

    mine = make_arrived(
        family_name_kana="タニン",
        given_name_kana="ジロウ",
        household_code="H1",
        birth_date=date(1970, 1, 1),
    )
    make_resident(
        office_a,
        family_name_kana="タニン",
        given_name_kana="ジロウ",
        household_code="H2",
        birth_date=date(1980, 1, 1),
    )
    assert interlock_view(user=clerk_a, application=mine).same_name == []


# --- R-HND-5 ---------------------------------------------------------------------------------


def test_r_hnd_5_the_second_check_refuses_the_same_member_of_staff(
    clerk_a: User, clerk_a2: User, arrived: Application
) -> None:
    check = second_check_request(
        acting_user=clerk_a, application=arrived, reason=SecondCheckReason.FLAGGED
    )
    ready_to_hand_over(clerk_a, arrived)
    with pytest.raises(ValidationError, match="二人目の職員による確認"):
        _hand_over(clerk_a, arrived)
    with pytest.raises(ValidationError, match="別の職員が確認"):
        second_check_confirm(acting_user=clerk_a, second_check=check)
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        SecondCheck.objects.filter(pk=check.pk).update(
            confirmed_by=clerk_a, confirmed_at=timezone.now()
        )
    second_check_confirm(acting_user=clerk_a2, second_check=check)
    with pytest.raises(ValidationError, match="済んでいます"):
        second_check_confirm(acting_user=clerk_a2, second_check=check)
    assert _hand_over(clerk_a, arrived).state == ApplicationState.HANDED_OVER


def test_r_hnd_5_the_confirmer_cannot_also_hand_over(
    clerk_a: User, clerk_a2: User, arrived: Application
) -> None:
    check = second_check_request(
        acting_user=clerk_a, application=arrived, reason=SecondCheckReason.NO_PHOTO
    )
    second_check_confirm(acting_user=clerk_a2, second_check=check)
    ready_to_hand_over(clerk_a2, arrived)
    with pytest.raises(ValidationError, match="別の職員が交付"):
        _hand_over(clerk_a2, arrived)


def test_checks_are_recorded_once_per_read(clerk_a: User, arrived: Application) -> None:
    ready_to_hand_over(clerk_a, arrived)
    handover_read_check(acting_user=clerk_a, application=arrived)
    assert HandoverReadCheck.objects.filter(application=arrived).count() == 1


@pytest.mark.django_db(transaction=True)
def test_r_hnd_1_two_cards_bound_to_one_chip_at_once_one_wins(
    clerk_a: User, clerk_a2: User, make_arrived: Any
) -> None:
    """Two clerks set up two cards with the same chip at the same moment: exactly one binding,
    and the other is told which card holds it (custody_one_card_per_serial backs the check)."""
    import threading

    from django.db import connection

    from apps.custody.models import Lot
    from apps.custody.services import card_setup_bind
    from tests.custody.helpers import card_of, receive

    first = make_arrived(family_name_kana="ヘイコウイチ")
    second = make_arrived(family_name_kana="ヘイコウニ")
    receive(clerk_a, first)
    lot = Lot.objects.get()
    serial = new_serial()
    assert clerk_a.counter is not None
    assert clerk_a2.counter is not None
    reads = {
        clerk_a.pk: read_card(clerk_a.counter, serial),
        clerk_a2.pk: read_card(clerk_a2.counter, serial),
    }
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def bind(user: User, application: Application) -> None:
        try:
            barrier.wait(timeout=30)
            card_setup_bind(
                acting_user=user,
                lot=lot,
                card=card_of(application),
                read=reads[user.pk],
            )
            outcomes.append("bound")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=bind, args=(clerk_a, first)),
        threading.Thread(target=bind, args=(clerk_a2, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[0] == "bound"
    assert outcomes.count("bound") == 1
    assert "既に" in " ".join(outcomes) or "別のカード" in " ".join(outcomes)
    assert CardCustody.objects.filter(auth_serial=serial).count() == 1
