"""The call centre's suspensions (R-SUS-1) by API and CSV, idempotent by the record id,
under concurrency on PostgreSQL; lifting at the counter refused after a cancellation and
the only way back for a found card (R-SUS-2)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.test import Client

from apps.accounts.models import Office, User
from apps.cards.models import Card, SuspensionImport, SuspensionReport
from apps.cards.rules import CardState, SuspensionReason, lift_refusal
from apps.cards.suspensions import (
    FeedOutcome,
    FeedRecord,
    SuspensionConflict,
    card_lift_suspension,
    suspension_feed_client_create,
    suspension_import_run,
    suspension_import_submit,
    suspension_record_receive,
)
from apps.certificates.services import card_end
from apps.residents.models import Resident
from tests.actors import FIXTURES

AT = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)


def _record(resident: Resident, record_id: str = "CC-0001", **changes: Any) -> FeedRecord:
    fields: dict[str, Any] = {
        "record_id": record_id,
        "resident_code": resident.resident_code,
        "reported_at": AT,
        "reason": SuspensionReason.LOST,
    }
    fields.update(changes)
    return FeedRecord(**fields)


def _suspensions(card: Card) -> int:
    """How many times the card was moved into SUSPENDED (its history, from the triggers)."""
    from django.apps import apps

    events = apps.get_model("cards", "CardEvent").objects.filter(pgh_obj_id=card.pk)
    states = list(events.order_by("pgh_id").values_list("state", flat=True))
    return sum(
        1
        for before, after in zip(["", *states], states, strict=False)
        if after == CardState.SUSPENDED and before != CardState.SUSPENDED
    )


# --- rules --------------------------------------------------------------------------------------


def test_r_sus_2_lifting_refused_after_cancellation_allowed_when_suspended_or_lost() -> None:
    assert lift_refusal(CardState.VOID) == "廃止の届出があったカードは、一時停止を解除できません。"
    assert lift_refusal(CardState.SUSPENDED) is None
    assert lift_refusal(CardState.LOST) is None
    assert lift_refusal(CardState.ACTIVE) is not None
    assert lift_refusal(CardState.RETURNED) is not None


# --- the record, once ---------------------------------------------------------------------------


@pytest.fixture
def holder(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> tuple[Resident, Card]:
    resident = make_resident(office_a)
    return resident, make_card(resident)


def test_r_sus_1_the_same_record_twice_changes_nothing_the_second_time(
    holder: tuple[Resident, Card],
) -> None:
    resident, card = holder
    report, outcome = suspension_record_receive(
        acting_user=FIXTURES, record=_record(resident), source="api"
    )
    assert outcome is FeedOutcome.CREATED
    assert report.suspended_card
    card.refresh_from_db()
    assert card.state == CardState.SUSPENDED
    updated = card.updated_at
    again, outcome = suspension_record_receive(
        acting_user=FIXTURES, record=_record(resident), source="csv"
    )
    assert outcome is FeedOutcome.REPEATED
    assert again.pk == report.pk
    card.refresh_from_db()
    assert card.updated_at == updated
    assert SuspensionReport.objects.count() == 1
    assert _suspensions(card) == 1


def test_r_sus_1_a_conflicting_record_with_the_same_id_is_refused(
    holder: tuple[Resident, Card],
) -> None:
    resident, _ = holder
    suspension_record_receive(acting_user=FIXTURES, record=_record(resident), source="api")
    with pytest.raises(SuspensionConflict, match="別の内容"):
        suspension_record_receive(
            acting_user=FIXTURES,
            record=_record(resident, reason=SuspensionReason.STOLEN),
            source="api",
        )
    assert SuspensionReport.objects.get().reason == SuspensionReason.LOST


def test_r_sus_1_bad_records_are_refused_and_change_nothing(
    holder: tuple[Resident, Card],
) -> None:
    resident, card = holder
    for record in [
        _record(resident, record_id="id with spaces"),
        _record(resident, resident_code="123"),
        _record(resident, resident_code="99999999999"),
    ]:
        with pytest.raises(ValidationError):
            suspension_record_receive(acting_user=FIXTURES, record=record, source="api")
    card.refresh_from_db()
    assert card.state == CardState.ACTIVE
    assert not SuspensionReport.objects.exists()


# --- lifting ------------------------------------------------------------------------------------


def test_r_sus_2_lifting_refused_after_cancellation(holder: tuple[Resident, Card]) -> None:
    resident, card = holder
    suspension_record_receive(acting_user=FIXTURES, record=_record(resident), source="api")
    card_end(acting_user=FIXTURES, card=card, to_state=CardState.VOID, on=date(2026, 12, 1))
    with pytest.raises(ValidationError, match="廃止の届出があったカード"):
        card_lift_suspension(acting_user=FIXTURES, card=card, on=date(2026, 12, 2))
    card.refresh_from_db()
    assert card.state == CardState.VOID


def test_r_sus_2_a_found_card_reported_lost_goes_back_only_through_lifting(
    holder: tuple[Resident, Card],
) -> None:
    _, card = holder
    card_end(acting_user=FIXTURES, card=card, to_state=CardState.LOST, on=date(2026, 12, 1))
    card = card_lift_suspension(acting_user=FIXTURES, card=card, on=date(2026, 12, 3))
    assert card.state == CardState.ACTIVE
    assert card.ended_on is None
    assert card.end_reason == ""
    # It went through SUSPENDED, the one edge back into use.
    assert _suspensions(card) == 1


# --- concurrency: real threads, real workers ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_r_sus_1_two_deliveries_at_once_record_once(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> None:
    """Two threads (two connections) deliver the same record at the same moment: one row,
    one suspension; the other sees a repeat. The card lock is held first so both are
    provably inside the service before either decides."""
    resident = make_resident(office_a)
    card = make_card(resident)
    outcomes: list[FeedOutcome] = []
    errors: list[BaseException] = []
    started = threading.Barrier(3)

    def deliver() -> None:
        try:
            started.wait()
            _, outcome = suspension_record_receive(
                acting_user=FIXTURES, record=_record(resident), source="api"
            )
            outcomes.append(outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    from django.db import transaction

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    with transaction.atomic():
        Card.objects.select_for_update().get(pk=card.pk)
        for thread in threads:
            thread.start()
        started.wait()
        _wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == [FeedOutcome.CREATED, FeedOutcome.REPEATED]
    assert SuspensionReport.objects.filter(record_id="CC-0001").count() == 1
    assert _suspensions(card) == 1


def _wait_for_lock_waiters(count: int) -> None:
    """Until ``count`` other backends wait for a lock, at most 60 s (pg_stat_activity, read
    as the owner: the application's role sees no other session's wait)."""
    import time

    from tests.dbrole import owner_connection

    deadline = time.monotonic() + 60
    with owner_connection() as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.05)
    pytest.fail(f"{count} deliveries never waited for the card lock")


CSV_HEADER = "record_id,resident_code,reported_at,reason\n"


def _csv(residents: list[Resident]) -> bytes:
    lines = [
        f"CSV-{n:04d},{resident.resident_code},2026-11-30T21:05:00+09:00,stolen\n"
        for n, resident in enumerate(residents)
    ]
    return (CSV_HEADER + "".join(lines)).encode()


def test_r_sus_1_the_csv_import_twice_records_each_suspension_once(
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    supervisor_a: User,
) -> None:
    residents = [make_resident(office_a) for _ in range(3)]
    for resident in residents:
        make_card(resident)
    content = (
        _csv(residents)
        + f"CSV-0000,{residents[1].resident_code},2026-11-30T21:05:00+09:00,lost\n".encode()
    )
    first = suspension_import_submit(
        acting_user=supervisor_a, filename="cc.csv", content=content, enqueue=False
    )
    result = suspension_import_run(import_id=first.pk)
    assert (result.created_count, result.repeated_count) == (3, 0)
    # The last line reuses CSV-0000 for another record: refused and reported with its line.
    assert result.problems == [[5, "CSV-0000", pytest.approx(result.problems[0][2])]]
    assert "別の内容" in result.problems[0][2]
    second = suspension_import_submit(
        acting_user=supervisor_a, filename="cc.csv", content=content, enqueue=False
    )
    again = suspension_import_run(import_id=second.pk)
    assert (again.created_count, again.repeated_count) == (0, 3)
    assert SuspensionReport.objects.count() == 3
    for resident in residents:
        card = Card.objects.get(resident=resident)
        assert card.state == CardState.SUSPENDED
        assert _suspensions(card) == 1


def test_r_sus_1_a_wrong_header_is_refused_at_upload(supervisor_a: User) -> None:
    with pytest.raises(ValidationError, match="見出し"):
        suspension_import_submit(
            acting_user=supervisor_a, filename="x.csv", content=b"a,b\n1,2\n", enqueue=False
        )
    assert not SuspensionImport.objects.exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_r_sus_1_two_real_workers_importing_the_same_file_at_once(
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
    supervisor_a: User,
    tmp_path: Any,
) -> None:
    """Two `celery worker` processes import the same file (uploaded twice) at the same time:
    each suspension is created once (the record id's unique constraint)."""
    from celery import Celery

    from tests.celery_workers import celery_workers

    residents = [make_resident(office_a) for _ in range(6)]
    cards = [make_card(resident) for resident in residents]
    content = _csv(residents)
    imports = [
        suspension_import_submit(
            acting_user=supervisor_a, filename="cc.csv", content=content, enqueue=False
        )
        for _ in range(2)
    ]
    with celery_workers(tmp_path, count=2, prefix="suspensions-test") as (broker, queue):
        sender = Celery("suspensions-test", broker=broker, set_as_current=False)
        sender.conf.task_serializer = "json"
        from django.db import transaction

        # Hold the first card's lock: both workers reach it and wait, then race.
        with transaction.atomic():
            Card.objects.select_for_update().get(pk=cards[0].pk)
            for record in imports:
                sender.send_task("cards.import_suspensions", args=[str(record.pk)], queue=queue)
            _wait_for_lock_waiters(2)
        _wait_until(
            lambda: SuspensionImport.objects.filter(state=SuspensionImport.State.DONE).count() == 2
        )
    done = list(SuspensionImport.objects.order_by("uploaded_at"))
    assert sum(record.created_count for record in done) == 6
    assert sum(record.repeated_count for record in done) == 6
    assert all(record.problems == [] for record in done)
    assert SuspensionReport.objects.count() == 6
    for card in cards:
        card.refresh_from_db()
        assert card.state == CardState.SUSPENDED
        assert _suspensions(card) == 1


def _wait_until(condition: Callable[[], bool]) -> None:
    import time

    deadline = time.monotonic() + 120
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the imports did not finish")
        time.sleep(0.2)


# --- the API: a machine client of its own ----------------------------------------------------


def _post(client: Client, token: str | None, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/api/v1/suspensions", data=body, content_type="application/json", headers=headers
    )


def _body(resident: Resident, **changes: Any) -> dict[str, Any]:
    body = {
        "record_id": "API-1",
        "resident_code": resident.resident_code,
        "reported_at": "2026-11-30T21:05:00+09:00",
        "reason": "lost",
    }
    body.update(changes)
    return body


def test_r_sus_1_the_feed_api_twice_then_a_conflict(holder: tuple[Resident, Card]) -> None:
    resident, card = holder
    _, token = suspension_feed_client_create(acting_user=FIXTURES, name="コールセンター")
    client = Client()
    first = _post(client, token, _body(resident))
    assert first.status_code == 201, first.content
    assert first.json() == {"record_id": "API-1", "outcome": "created", "card_suspended": True}
    second = _post(client, token, _body(resident))
    assert second.status_code == 200
    assert second.json()["outcome"] == "repeated"
    conflict = _post(client, token, _body(resident, reason="stolen"))
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    bad = _post(client, token, _body(resident, resident_code="12"))
    assert bad.status_code == 400
    assert SuspensionReport.objects.count() == 1
    assert _suspensions(card) == 1


def test_the_feed_credential_opens_this_endpoint_alone(
    holder: tuple[Resident, Card], clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    resident, _ = holder
    _, token = suspension_feed_client_create(acting_user=FIXTURES, name="コールセンター")
    client = Client()
    # A staff session is not the feed's credential.
    assert _post(client_for(clerk_a), None, _body(resident)).status_code == 401
    assert _post(client, "not-the-token", _body(resident)).status_code == 401
    # The token opens nothing else: the staff API and the reader agent's API refuse it.
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/applications/uncollected/", headers=headers).status_code == 403
    assert (
        client.post(
            "/api/v1/reads", data={}, content_type="application/json", headers=headers
        ).status_code
        == 401
    )
    assert client.get(f"/residents/{resident.pk}/", headers=headers).status_code == 302
