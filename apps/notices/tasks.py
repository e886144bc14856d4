"""Celery tasks of the notices app: ids and dates in, never personal data; idempotent.

Without REDIS_URL (``make run``) settings make Celery eager, so ``.delay()`` runs the same
function in-process and ``manage.py notices_run`` takes the same path as the scheduled job.
"""

from __future__ import annotations

import uuid
from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.core.service import SystemActor
from apps.notices import services
from apps.notices.models import NoticeRun

DAILY = SystemActor("notices.run_daily")


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


@shared_task(name="notices.render_batch", acks_late=True)
def batch_render_task(batch_id: str) -> bool:
    """Render one batch to PDF and CSV; a batch another worker is rendering is skipped."""
    return services.batch_render(batch_id=uuid.UUID(batch_id))
