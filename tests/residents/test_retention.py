"""R-MYN-2 retention: the My Number of a resident who left (moved out, died) is erased once
MY_NUMBER_RETENTION_DAYS have passed; the record of the person stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import Office, User
from apps.audit.models import Purpose
from apps.residents.models import Resident
from apps.residents.selectors import resident_find_by_my_number
from apps.residents.services import (
    RETENTION_JOB,
    resident_record_departure,
    resident_reveal_my_number,
    residents_erase_my_numbers,
)
from apps.residents.tasks import residents_erase_my_numbers_task
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 27)


def _left(resident: Resident, days_ago: int, reason: str = "moved_out") -> Resident:
    return resident_record_departure(
        acting_user=FIXTURES, resident=resident, on=TODAY - timedelta(days=days_ago), reason=reason
    )


def test_erased_after_the_period_kept_within_it_and_never_for_residents(
    make_resident: Callable[..., Resident], office_a: Office, settings: Any, clerk_a: User
) -> None:
    days = settings.MY_NUMBER_RETENTION_DAYS
    gone = _left(make_resident(office_a, my_number="123456789018"), days + 1)
    died = _left(make_resident(office_a), days + 30, reason="died")
    recent = _left(make_resident(office_a), days - 1)
    living = make_resident(office_a)
    assert residents_erase_my_numbers(acting_user=RETENTION_JOB, today=TODAY) == 2
    for resident in (gone, died, recent, living):
        resident.refresh_from_db()
    for erased in (gone, died):
        assert erased.my_number_ciphertext is None
        assert erased.my_number_index is None
        assert erased.my_number_last4 == ""
        assert erased.my_number_erased_on == TODAY
        assert erased.family_name == "山田"  # the record stays
        assert erased.my_number_masked == "(保存期間経過により消去済み)"
    for kept in (recent, living):
        assert kept.my_number_ciphertext is not None
        assert kept.my_number_erased_on is None
    # Not findable by the number any more, and not revealable.
    assert resident_find_by_my_number(user=clerk_a, my_number="123456789018") is None
    with pytest.raises(ValidationError, match="消去"):
        resident_reveal_my_number(
            acting_user=clerk_a,
            resident=gone,
            purpose=Purpose.CARD_PROCEDURE,
            authenticated_seconds_ago=1,
        )


def test_after_erasure_nothing_of_the_number_is_left_in_the_history(
    make_resident: Callable[..., Resident], office_a: Office, settings: Any
) -> None:
    """R-MYN-2: the change history (pghistory) never holds the number, its blind index or its
    last four digits, so erasing them from the row erases them everywhere."""
    days = settings.MY_NUMBER_RETENTION_DAYS
    gone = _left(make_resident(office_a, my_number="123456789018"), days + 1)
    residents_erase_my_numbers(acting_user=RETENTION_JOB, today=TODAY)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(e)::text FROM residents_residentevent e WHERE pgh_obj_id = %s",
            [gone.pk],
        )
        rows = [text for (text,) in cursor.fetchall()]
    assert len(rows) >= 3  # created, moved out, erased
    for text in rows:
        assert "9018" not in text
        assert "my_number" not in text.replace("my_number_erased_on", "")


def test_the_job_is_idempotent_and_scheduled(
    make_resident: Callable[..., Resident], office_a: Office, settings: Any
) -> None:
    _left(make_resident(office_a), settings.MY_NUMBER_RETENTION_DAYS + 1)
    assert residents_erase_my_numbers_task(TODAY.isoformat()) == 1
    assert residents_erase_my_numbers_task(TODAY.isoformat()) == 0
    from config.celery import app

    entries = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "residents.erase_my_numbers" in entries


def test_the_period_is_a_setting(
    make_resident: Callable[..., Resident],
    office_a: Office,
    settings: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings.MY_NUMBER_RETENTION_DAYS = 10
    _left(make_resident(office_a), 11)
    call_command("erase_my_numbers", "--date", TODAY.isoformat())
    assert "erased 1" in capsys.readouterr().out


def test_half_erased_is_impossible(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    resident = make_resident(office_a)
    with pytest.raises(IntegrityError, match="held_or_erased"), transaction.atomic():
        Resident.objects.filter(pk=resident.pk).update(my_number_index=None)
