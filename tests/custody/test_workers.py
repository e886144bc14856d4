"""The daily reconciliation job on a real Celery worker and Redis (committed data)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.custody.models import DailyReconciliation
from tests.celery_workers import celery_workers
from tests.custody.helpers import receive


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with celery_workers(tmp_path, count=1, prefix="custody-test") as running:
        yield running


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_reconciliation_job_runs_on_a_worker_and_reruns_harmlessly(
    clerk_a: User, arrived: Application, worker: tuple[str, str], transactional_db: Any
) -> None:
    receive(clerk_a, arrived)
    broker, queue = worker
    sender = Celery("custody-test", broker=broker, set_as_current=False)
    sender.conf.task_serializer = "json"
    on = timezone.localdate().isoformat()
    for _ in range(2):
        sender.send_task("custody.reconcile_daily", kwargs={"on": on}, queue=queue)
    rows = DailyReconciliation.objects.filter(office=clerk_a.office, on=on)
    _wait_for(lambda: rows.exists(), seconds=60, what="the reconciliation row")
    row = rows.get()
    assert row.figures["held"] == 1
    assert row.problems == 1  # the office's one place has not been counted today
