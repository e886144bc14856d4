"""R-NOT-2 under concurrency: real Celery workers on real Redis, and two racing transactions.

These tests commit (``transactional_db``) so that other processes and connections see the
data, as production workers would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.notices import job
from apps.notices.models import Notice, NoticeBatch, NoticeRun
from apps.notices.rules import NoticeKind, expiry_window
from apps.residents.models import Resident
from tests import dbrole
from tests.services import redis_url

ON = date(2027, 3, 1)
HOLDERS = 12


@pytest.fixture
def due_events(
    transactional_db: Any,
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    certificate_on: Callable[..., Any],
) -> int:
    """HOLDERS cards due on ON, each with one certificate expiring earlier: 2 events each."""
    for n in range(HOLDERS):
        card = card_expiring(make_resident(office_a), date(2027, 5, 1 + n))
        certificate_on(card, date(2027, 4, 1 + n))
    return 2 * HOLDERS


def _database_url() -> str:
    return dbrole.database_url()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two `celery -A config worker` processes on Redis, consuming a queue of their own."""
    broker = redis_url()
    queue = f"notices-test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "REDIS_URL": broker,
        "DATABASE_URL": _database_url(),
        "CELERY_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    processes = []
    for n, log in enumerate(logs, start=1):
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--pool=solo",
                        "--prefetch-multiplier=1",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "-n",
                        f"w{n}-{queue}@%h",
                        "--loglevel=INFO",
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while not all("ready." in log.read_text(errors="replace") for log in logs):
            for process, log in zip(processes, logs, strict=True):
                if process.poll() is not None:
                    pytest.fail(f"a worker exited early:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail("the workers did not start within 60 s")
            time.sleep(0.2)
        yield broker, queue
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # The queue's bindings stay in Redis after the workers: remove ours, only ours.
        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        client.close()


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.redis
def test_r_not_2_two_real_workers_run_the_job_at_once(
    due_events: int, workers: tuple[str, str]
) -> None:
    """R-NOT-2: two workers run the daily job at the same time; one notice per event."""
    broker, queue = workers
    sender = Celery("notices-test", broker=broker)
    sender.conf.task_serializer = "json"
    # Hold the job's lock so that both workers are provably inside the job at the same time
    # before either can insert; then let them race.
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [job.JOB_LOCK])
    try:
        for _ in range(2):
            sender.send_task(
                "notices.run_daily", kwargs={"on": ON.isoformat(), "render": False}, queue=queue
            )
        _wait_for(
            lambda: NoticeRun.objects.filter(on=ON, finished_at__isnull=True).count() == 2,
            seconds=30,
            what="both workers to start the job",
        )
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [job.JOB_LOCK])
    _wait_for(
        lambda: NoticeRun.objects.filter(on=ON, finished_at__isnull=False).count() == 2,
        seconds=60,
        what="both runs to finish",
    )
    sender.close()

    runs = list(NoticeRun.objects.filter(on=ON).order_by("finished_at"))
    assert [run.error for run in runs] == ["", ""]
    assert sorted(run.total for run in runs) == [0, due_events]
    assert Notice.objects.count() == due_events
    assert Notice.objects.filter(kind=NoticeKind.CARD_EXPIRY).count() == HOLDERS
    assert Notice.objects.filter(kind=NoticeKind.CERTIFICATE_EXPIRY).count() == HOLDERS
    # Batches hold exactly what was created, nothing empty.
    assert sum(b.notice_count for b in NoticeBatch.objects.all()) == due_events
    assert not NoticeBatch.objects.filter(notices__isnull=True).exists()


def test_r_not_2_the_unique_constraint_alone_settles_a_race(due_events: int) -> None:
    """R-NOT-2 without the advisory lock: two transactions select the same due events; the
    second blocks on the unique index until the first commits, then inserts nothing, and its
    batch rows are settled to the truth (no empty batch, exact counts)."""
    first_inserted = threading.Event()
    results: dict[str, job.Created] = {}
    errors: list[BaseException] = []

    def racer(name: str) -> None:
        try:
            if name == "second":
                first_inserted.wait(timeout=30)
            with transaction.atomic():
                results[name] = job.create_expiry_notices(
                    on=ON, window=expiry_window(ON), batch_size=1000
                )
                if name == "first":
                    first_inserted.set()
                    # Keep the rows uncommitted while the second transaction runs into them.
                    time.sleep(1.0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_inserted.set()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=racer, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert results["first"].total == due_events
    assert results["second"].total == 0
    assert Notice.objects.count() == due_events
    assert sum(b.notice_count for b in NoticeBatch.objects.all()) == due_events
    assert not NoticeBatch.objects.filter(notices__isnull=True).exists()
