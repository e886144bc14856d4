"""Celery tasks of the notices app: ids and dates in, never personal data; idempotent.

Without REDIS_URL (``make run``) settings make Celery eager, so ``.delay()`` runs the same
function in-process and ``manage.py notices_run`` takes the same path as the scheduled job.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from apps.core.service import SystemActor
from apps.notices import services
from apps.notices.models import NoticeRun

DAILY = SystemActor("notices.run_daily")
PICKUP = SystemActor("notices.pickup_for_arrivals")


@shared_task(name="notices.run_daily", acks_late=True)
def notices_run_daily(on: str | None = None, render: bool = True) -> dict[str, int]:
    """The daily job (beat schedule in config/celery.py). ``on``: ISO date, default today.

    acks_late: a worker that dies mid-run leaves the message for another worker; the run is
    one transaction and re-runs create only what is missing (R-NOT-2), so a retry is safe.
    """
    day = date.fromisoformat(on) if on else timezone.localdate()
    result = services.notices_run(
        acting_user=DAILY, on=day, trigger=NoticeRun.Trigger.SCHEDULE, render=render
    )
    return result.created


@shared_task(name="notices.render_batch", bind=True, acks_late=True, reject_on_worker_lost=True)
def batch_render_task(self: Task[Any, Any], batch_id: str) -> bool:
    """Render one batch to PDF and CSV; a batch another worker is rendering is skipped.

    A worker killed mid-batch (out of memory, a machine going down) does not lose it:
    reject_on_worker_lost puts the message back on the queue, and the task delivered again
    takes over its own claim (its id; services.batch_render) and renders the whole batch.
    """
    return services.batch_render(batch_id=uuid.UUID(batch_id), claim=str(self.request.id or ""))


@shared_task(name="notices.pickup_for_arrivals", acks_late=True)
def pickup_notices_for_arrivals_task(on: str) -> int:
    """Pickup notices for every arrived card that has none yet (R-ISS-1, R-NOT-2).

    Sent by the arrivals import after its commit with the import day only (never card ids
    or personal data): set-based, and a second run creates nothing.
    """
    result = services.pickup_notices_create_for_arrivals(
        acting_user=PICKUP, card_ids=None, on=date.fromisoformat(on)
    )
    return result.total


@shared_task(name="notices.resume_renders")
def resume_renders_task() -> int:
    """The resume sweep (beat, every JOBS_RESUME_SECONDS): a render message for every batch
    still pending, whose message was lost while the broker was down (apps.core.jobs). A batch
    already queued gets a second message, which finds it claimed and does nothing."""
    pending = services.batches_pending_render()
    services.batches_render_enqueue(batch_ids=pending)
    return len(pending)
