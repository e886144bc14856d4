"""A Celery worker process killed in the middle of a notice batch: the batch is rendered
again from its start by the same message, every letter exactly once (R-NOT-2).

Real Redis, a real `celery -A config worker --pool=prefork` (the task runs in a child process,
as in production), and SIGKILL to that child while it is half way through the batch (its
progress is committed every 50 letters). Two protections make it resume: the message goes back
to the queue when its process dies (acks_late + reject_on_worker_lost, config/settings.py and
apps/notices/tasks.py), and the task delivered again takes over its own claim (the task id in
NoticeBatch.render_claim). Without the first the message is dropped; without the second the
batch stays "rendering" for an hour: either way the wait below fails.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.core.files.storage import default_storage

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.notices.letters import CHUNK
from apps.notices.models import Notice, NoticeBatch
from apps.notices.services import notices_run
from apps.residents.models import Resident
from tests.celery_workers import celery_workers

ON = date(2027, 2, 28)
LETTERS = 2 * CHUNK + 10  # progress after 50 and 100: there is a middle to kill it in


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


@pytest.fixture
def batch(
    transactional_db: Any,
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
) -> NoticeBatch:
    for n in range(LETTERS):
        card_expiring(make_resident(office_a), date(2027, 5, 1 + n % 28))
    result = notices_run(on=ON, render=False)
    (batch_id,) = result.batch_ids
    found = NoticeBatch.objects.get(pk=batch_id)
    assert found.notice_count == LETTERS
    return found


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    with celery_workers(
        tmp_path, count=1, prefix="fault-kill", pool="prefork", processes=processes
    ) as (broker, queue):
        yield broker, queue, processes[0]


@pytest.mark.redis
def test_a_worker_killed_mid_batch_resumes_without_duplicates_or_gaps(
    batch: NoticeBatch, worker: tuple[str, str, subprocess.Popen[bytes]]
) -> None:
    broker, queue, process = worker
    sender = Celery("fault-kill", broker=broker, set_as_current=False)
    sender.conf.task_serializer = "json"
    sender.send_task("notices.render_batch", args=[str(batch.pk)], queue=queue)

    def half_way() -> bool:
        batch.refresh_from_db()
        return (
            batch.render_state == NoticeBatch.RenderState.RENDERING
            and 0 < batch.rendered_count < LETTERS
        )

    _wait_for(half_way, seconds=120, what="the worker to be half way through the batch")
    (child,) = _children(process.pid)
    claim = batch.render_claim
    os.kill(child, signal.SIGKILL)

    def done() -> bool:
        batch.refresh_from_db()
        return batch.render_state == NoticeBatch.RenderState.DONE

    _wait_for(done, seconds=180, what="the batch to be rendered after the kill")
    sender.close()
    assert process.poll() is None, "the worker itself stays up (its pool replaces the child)"
    assert batch.render_claim == claim, "the same message (task id) finished the batch"
    assert batch.rendered_count == LETTERS
    # No gaps, no duplicates: the CSV lists every notice of the batch once, and the PDF
    # was stored once (no partial file of the killed render is left).
    with default_storage.open(batch.csv) as stored:
        rows = list(csv.reader(io.StringIO(stored.read().decode("utf-8-sig"))))[1:]
    references = [row[0] for row in rows]
    assert len(references) == LETTERS
    assert len(set(references)) == LETTERS
    assert Notice.objects.filter(batch=batch).count() == LETTERS
    batch_files = default_storage.listdir("notices/batches")[1]
    assert sorted(name for name in batch_files if name.startswith(str(batch.pk))) == sorted(
        [Path(batch.pdf).name, Path(batch.csv).name]
    )
