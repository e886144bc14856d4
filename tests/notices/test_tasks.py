"""The daily job's entry points: the beat schedule, the task, and `manage.py notices_run`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.notices.models import Notice, NoticeBatch, NoticeRun
from apps.notices.rules import NoticeKind
from apps.notices.tasks import notices_run_daily
from apps.residents.models import Resident
from config.celery import app as celery_app


def test_the_schedule_runs_the_notice_job_daily() -> None:
    entry = celery_app.conf.beat_schedule["notices-daily"]
    assert entry["task"] == "notices.run_daily"
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert len(schedule.hour) == 1
    assert len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7))
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]


@pytest.mark.django_db
def test_task_runs_the_job_with_ids_and_dates_only(
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    card_expiring(make_resident(office_a), date(2027, 5, 20))
    with django_capture_on_commit_callbacks(execute=True):
        created = notices_run_daily.delay(on="2027-03-01").get()
    assert created == {NoticeKind.CARD_EXPIRY.value: 1}
    assert NoticeRun.objects.get().trigger == NoticeRun.Trigger.SCHEDULE
    # The render task queued after the commit ran (eager), so the letters exist.
    batch = NoticeBatch.objects.get()
    assert batch.render_state == NoticeBatch.RenderState.DONE


@pytest.mark.django_db
def test_management_command_runs_the_day_and_prints_what_it_created(
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    eager_celery: None,
) -> None:
    card_expiring(make_resident(office_a), date(2027, 5, 31))
    card_expiring(make_resident(office_a), date(2027, 5, 30))
    out = StringIO()
    call_command("notices_run", "--date", "2027-02-28", stdout=out)
    printed = out.getvalue()
    assert "有効期限 2027-02-28〜2027-05-31 が対象" in printed
    assert "有効期限通知書（カード） (card_expiry): 2通" in printed
    assert "created=2 batches=1" in printed
    assert "PDF・CSVを作成しました: 1束" in printed
    assert Notice.objects.count() == 2

    again = StringIO()
    call_command("notices_run", "--date", "2027-02-28", "--no-render", stdout=again)
    assert "created=0 batches=0" in again.getvalue()

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("notices_run", "--date", "28/02/2027")
