"""Tests of the J-LIS arrivals import (R-ISS-1): idempotent, all or nothing, errors name the
line, expiry from card_expiry (R-VAL-1…6), pickup notices after commit."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from apps.accounts.models import User
from apps.applications.arrivals import ArrivalFileError, arrivals_import
from apps.applications.models import Application, ArrivalImport
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState, card_expiry
from apps.residents.rules import Residence, ResidenceCategory
from tests.applications.helpers import arrivals_csv, receive

ON = date(2026, 11, 27)
ISSUED = date(2026, 11, 20)


@pytest.fixture
def ordered(clerk_a: User, make_resident: Any, office_a: Any) -> list[Application]:
    """Three first-issue applications with their cards ordered."""
    return [
        receive(clerk_a, make_resident(office_a), ApplicationKind.FIRST_ISSUE, on=date(2026, 11, 1))
        for _ in range(3)
    ]


def _snapshot() -> list[tuple[Any, ...]]:
    cards = Card.objects.order_by("id").values_list(
        "id", "state", "issued_on", "expires_on", "arrived_on"
    )
    applications = Application.objects.order_by("id").values_list("id", "state", "arrived_at")
    # A refused file leaves its import recorded as failed (the page shows why), nothing else.
    imports = ArrivalImport.objects.exclude(state=ArrivalImport.State.FAILED).count()
    return [*cards, *applications, ("imports", imports)]


def _events() -> int:
    from django.apps import apps

    cards: int = apps.get_model("cards", "CardEvent").objects.count()
    applications: int = apps.get_model("applications", "ApplicationEvent").objects.count()
    return cards + applications


@pytest.mark.django_db
def test_r_iss_1_import_moves_cards_and_applications_to_arrived(
    clerk_a: User, ordered: list[Application]
) -> None:
    rows = [(a.new_card_id, ISSUED, ISSUED + timedelta(days=i)) for i, a in enumerate(ordered)]
    result = arrivals_import(
        acting_user=clerk_a, content=arrivals_csv(rows, crlf=True), filename="jlis.csv", on=ON
    )
    assert result.created
    record = result.record
    assert (record.row_count, record.applied_count, record.already_count) == (3, 3, 0)
    assert set(result.applied_card_ids) == {a.new_card_id for a in ordered}
    for application, (_, issued, arrived) in zip(ordered, rows, strict=True):
        application.refresh_from_db()
        assert application.new_card_id is not None
        card = Card.objects.select_related("resident").get(pk=application.new_card_id)
        assert application.state == ApplicationState.ARRIVED
        assert application.arrived_at
        assert (card.state, card.issued_on, card.arrived_on) == (CardState.ARRIVED, issued, arrived)
        # R-VAL-1: the expiry counts from the issue date, through card_expiry.
        assert card.expires_on == card_expiry(
            birth_date=card.resident.birth_date, issued_on=issued, applied_on=card.applied_on
        )


@pytest.mark.django_db
def test_importing_the_same_file_twice_creates_nothing(
    clerk_a: User, ordered: list[Application]
) -> None:
    """Idempotent: the second import of the same bytes changes nothing and says so."""
    content = arrivals_csv([(a.new_card_id, ISSUED, ON) for a in ordered])
    first = arrivals_import(acting_user=clerk_a, content=content, filename="a.csv", on=ON)
    before, events = _snapshot(), _events()
    second = arrivals_import(acting_user=clerk_a, content=content, filename="again.csv", on=ON)
    assert not second.created
    assert second.record.pk == first.record.pk
    assert second.applied_card_ids == ()
    assert _snapshot() == before
    assert _events() == events  # not even a history row


@pytest.mark.django_db
def test_a_resent_file_with_lines_already_applied_changes_only_the_new_ones(
    clerk_a: User, ordered: list[Application]
) -> None:
    first, *rest = ordered
    arrivals_import(
        acting_user=clerk_a,
        content=arrivals_csv([(first.new_card_id, ISSUED, ON)]),
        filename="a.csv",
        on=ON,
    )
    # Different bytes (upper-case ids, more lines) repeating the applied line.
    rows = [(str(a.new_card_id).upper(), ISSUED, ON) for a in ordered]
    result = arrivals_import(
        acting_user=clerk_a, content=arrivals_csv(rows), filename="b.csv", on=ON
    )
    assert (result.record.applied_count, result.record.already_count) == (2, 1)
    assert set(result.applied_card_ids) == {a.new_card_id for a in rest}


BAD_LINES = [
    ("not-a-uuid,2026-11-20,2026-11-21", "card_id"),
    ("{id},2026-02-30,2026-11-21", "issued_on"),
    ("{id},2026-11-20,21/11/2026", "arrived_on"),
    ("{id},2026-11-20,2026-11-19", "到着日）が issued_on"),
    ("{id},2026-11-20,2026-11-28", "取込日より後"),
    ("{unknown},2026-11-20,2026-11-21", "発注中のカードがありません"),
    ("{id},2026-11-20", "列の数"),
    ("{id},2026-11-20,2026-11-21,extra", "列の数"),
    ("{id},2026-01-01,2026-01-02", "有効期限を計算できません"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("bad_line", "message"), BAD_LINES)
def test_one_bad_row_changes_nothing_and_names_the_row(
    clerk_a: User, ordered: list[Application], bad_line: str, message: str
) -> None:
    """All or nothing: one bad line (here line 3) stops the file, and the error names it."""
    good = [(a.new_card_id, ISSUED, ON) for a in ordered]
    line = bad_line.format(id=ordered[1].new_card_id, unknown=uuid.uuid4())
    lines = arrivals_csv(good).decode().splitlines()
    # Line 3 of the file (header = 1) is replaced by the bad one.
    lines[2] = line
    content = ("\n".join(lines) + "\n").encode()
    before, events = _snapshot(), _events()
    with pytest.raises(ArrivalFileError) as refused:
        arrivals_import(acting_user=clerk_a, content=content, filename="bad.csv", on=ON)
    assert refused.value.problems[0][0] == 3
    assert message in refused.value.problems[0][1]
    assert "3行目" in refused.value.messages[1]
    assert _snapshot() == before
    assert _events() == events
    # Once corrected, the file goes in.
    assert arrivals_import(
        acting_user=clerk_a, content=arrivals_csv(good), filename="fixed.csv", on=ON
    ).created


@pytest.mark.django_db
def test_duplicate_card_in_a_file_is_refused(clerk_a: User, ordered: list[Application]) -> None:
    card_id = ordered[0].new_card_id
    content = arrivals_csv([(card_id, ISSUED, ON), (card_id, ISSUED, ON)])
    with pytest.raises(ArrivalFileError) as refused:
        arrivals_import(acting_user=clerk_a, content=content, filename="dup.csv", on=ON)
    assert [line for line, _ in refused.value.problems] == [3]
    assert "複数" in refused.value.problems[0][1]
    assert "2行目と同じ" in refused.value.problems[0][1]


@pytest.mark.django_db
def test_a_card_already_arrived_with_other_dates_is_refused(
    clerk_a: User, ordered: list[Application]
) -> None:
    card_id = ordered[0].new_card_id
    arrivals_import(
        acting_user=clerk_a, content=arrivals_csv([(card_id, ISSUED, ON)]), filename="1", on=ON
    )
    with pytest.raises(ArrivalFileError, match="別の発行日"):
        arrivals_import(
            acting_user=clerk_a,
            content=arrivals_csv([(card_id, ISSUED, ON - timedelta(days=1))]),
            filename="2",
            on=ON,
        )


@pytest.mark.django_db
def test_cards_of_another_office_are_unknown(clerk_b: User, ordered: list[Application]) -> None:
    """An import must not reveal that a card exists at another office."""
    content = arrivals_csv([(ordered[0].new_card_id, ISSUED, ON)])
    with pytest.raises(ArrivalFileError, match="発注中のカードがありません"):
        arrivals_import(acting_user=clerk_b, content=content, filename="b.csv", on=ON)


@pytest.mark.django_db
def test_header_encoding_and_empty_file(clerk_a: User) -> None:
    with pytest.raises(ArrivalFileError, match="1行目"):
        arrivals_import(acting_user=clerk_a, content=b"id,issued,arrived\n", filename="x", on=ON)
    with pytest.raises(ArrivalFileError, match="UTF-8"):
        arrivals_import(
            acting_user=clerk_a,
            content="card_id,issued_on,arrived_on\n発行\n".encode("shift_jis"),
            filename="x",
            on=ON,
        )
    with pytest.raises(ArrivalFileError, match="データ行がありません"):
        arrivals_import(acting_user=clerk_a, content=arrivals_csv([]), filename="x", on=ON)
    assert ArrivalImport.objects.count() == 0


@pytest.mark.django_db
def test_byte_order_mark_is_accepted(clerk_a: User, ordered: list[Application]) -> None:
    content = b"\xef\xbb\xbf" + arrivals_csv([(ordered[0].new_card_id, ISSUED, ON)])
    assert arrivals_import(acting_user=clerk_a, content=content, filename="bom", on=ON).created


@pytest.mark.django_db
def test_r_val_6_foreign_resident_expiry_in_the_import(
    clerk_a: User, make_resident: Any, office_a: Any
) -> None:
    """R-VAL-6: a mid-to-long-term resident's card ends with the period of stay."""
    stay_end = date(2028, 3, 31)
    resident = make_resident(
        office_a,
        nationality="US",
        residence=Residence(category=ResidenceCategory.MID_LONG_TERM, period_ends_on=stay_end),
    )
    application = receive(clerk_a, resident, ApplicationKind.FIRST_ISSUE, on=date(2026, 11, 1))
    arrivals_import(
        acting_user=clerk_a,
        content=arrivals_csv([(application.new_card_id, ISSUED, ON)]),
        filename="f.csv",
        on=ON,
    )
    assert application.new_card_id is not None
    assert Card.objects.get(pk=application.new_card_id).expires_on == stay_end


@pytest.mark.django_db
def test_pickup_notices_are_sent_to_celery_after_commit(
    clerk_a: User,
    ordered: list[Application],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """R-ISS-1: after the arrivals commit, a Celery task (the day only) makes pickup notices."""
    from apps.notices import tasks as notice_tasks

    sent: list[str] = []

    def apply_async(args: tuple[str, ...], **options: Any) -> None:
        sent.extend(args)

    # apps.core.jobs.enqueue sends with apply_async (a broker outage is logged, not raised).
    monkeypatch.setattr(notice_tasks.pickup_notices_for_arrivals_task, "apply_async", apply_async)
    content = arrivals_csv([(a.new_card_id, ISSUED, ON) for a in ordered])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        arrivals_import(acting_user=clerk_a, content=content, filename="n.csv", on=ON)
        assert sent == []  # nothing before the commit
    assert len(callbacks) == 1
    assert sent == [ON.isoformat()]


@pytest.mark.django_db
def test_the_pickup_task_makes_one_notice_per_arrived_card(
    clerk_a: User, ordered: list[Application]
) -> None:
    """R-NOT-2: the task the import sends, run twice, leaves one pickup notice per card."""
    from apps.notices.models import Notice
    from apps.notices.rules import NoticeKind
    from apps.notices.tasks import pickup_notices_for_arrivals_task

    arrivals_import(
        acting_user=clerk_a,
        content=arrivals_csv([(a.new_card_id, ISSUED, ON) for a in ordered]),
        filename="p.csv",
        on=ON,
    )
    assert pickup_notices_for_arrivals_task.run(ON.isoformat()) == len(ordered)
    assert pickup_notices_for_arrivals_task.run(ON.isoformat()) == 0
    notices = Notice.objects.filter(kind=NoticeKind.PICKUP)
    assert sorted(str(card_id) for card_id in notices.values_list("card_id", flat=True)) == (
        sorted(str(a.new_card_id) for a in ordered)
    )


@pytest.mark.django_db
def test_history_rows_name_the_file(clerk_a: User, ordered: list[Application]) -> None:
    """Every card and application moved leaves a history row that names the imported file."""
    from django.apps import apps

    result = arrivals_import(
        acting_user=clerk_a,
        content=arrivals_csv([(ordered[0].new_card_id, ISSUED, ON)]),
        filename="h.csv",
        on=ON,
    )
    for model, obj_id in (
        ("cards.CardEvent", ordered[0].new_card_id),
        ("applications.ApplicationEvent", ordered[0].pk),
    ):
        event = (
            apps.get_model(model)
            .objects.filter(pgh_obj_id=obj_id, state="arrived")
            .select_related("pgh_context")
            .get()
        )
        assert event.pgh_context.metadata["arrivals_import"] == result.record.sha256
