"""R-REI-3: replaying "add a fee schedule" (a re-sent form, a retried request, two at once)
creates one schedule; a correction with other amounts or another note is still allowed."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.fees.models import FeeSchedule, schedule_digest
from apps.fees.rules import DEFAULT_FEE_AMOUNTS, FeeRow
from apps.fees.services import fee_schedule_add

TODAY = date(2026, 11, 27)
STARTS = date(2027, 4, 1)


def _amounts(**changes: int) -> dict[FeeRow, int]:
    return {**DEFAULT_FEE_AMOUNTS, **{FeeRow(row): amount for row, amount in changes.items()}}


@pytest.mark.django_db
def test_r_rei_3_an_identical_schedule_for_the_same_start_is_refused(supervisor_a: User) -> None:
    def add(**amounts: int) -> FeeSchedule:
        return fee_schedule_add(
            acting_user=supervisor_a,
            starts_on=STARTS,
            today=TODAY,
            note="改定",
            amounts=_amounts(**amounts),
        )

    add(reissue_loss_with_certs=1100)
    with pytest.raises(ValidationError, match="同じ内容"):
        add(reissue_loss_with_certs=1100)
    # A correction for the same date (other amounts) is a new schedule, and it wins.
    add(reissue_loss_with_certs=1200)
    assert FeeSchedule.objects.filter(starts_on=STARTS).count() == 2


@pytest.mark.django_db
def test_r_rei_3_the_database_refuses_the_same_schedule_twice(supervisor_a: User) -> None:
    schedule = fee_schedule_add(
        acting_user=supervisor_a, starts_on=STARTS, amounts=_amounts(), today=TODAY
    )
    assert schedule.amounts_digest == schedule_digest(
        amounts={row.value: amount for row, amount in _amounts().items()}, note=""
    )
    with pytest.raises(IntegrityError, match="feeschedule_not_twice"), transaction.atomic():
        FeeSchedule.objects.create(starts_on=STARTS, amounts_digest=schedule.amounts_digest)


@pytest.mark.django_db(transaction=True)
def test_r_rei_3_two_replays_at_once_make_one_schedule(supervisor_a: User) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def add() -> None:
        try:
            barrier.wait(timeout=30)
            fee_schedule_add(
                acting_user=supervisor_a, starts_on=STARTS, amounts=_amounts(), today=TODAY
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    assert FeeSchedule.objects.filter(starts_on=STARTS).count() == 1


@pytest.mark.django_db
def test_r_rei_3_a_replayed_form_and_request_add_nothing(
    supervisor_a: User, client_for: Any
) -> None:
    client = client_for(supervisor_a)
    starts = timezone.localdate() + timedelta(days=30)
    form: dict[str, Any] = {"starts_on": starts.isoformat(), "note": "改定"}
    form |= {row.value: amount for row, amount in DEFAULT_FEE_AMOUNTS.items()}
    assert client.post(reverse("fees:schedule_new"), form).status_code == 302
    replay = client.post(reverse("fees:schedule_new"), form)
    assert replay.status_code == 400
    assert "同じ内容" in replay.content.decode()
    body = {
        "starts_on": starts.isoformat(),
        "note": "改定",
        "amounts": {row.value: amount for row, amount in DEFAULT_FEE_AMOUNTS.items()},
    }
    again = client.post(reverse("fees-api:schedules"), body, content_type="application/json")
    assert again.status_code == 400
    assert "同じ内容" in again.content.decode()
    assert FeeSchedule.objects.filter(starts_on=starts).count() == 1
