"""Celery tasks of the applications app: ids in, never personal data; idempotent.

Without REDIS_URL (``make run``) settings make Celery eager, so ``.delay()`` runs the task
in-process; the upload's ``transaction.on_commit`` then imports in the same request.
"""

from __future__ import annotations

import uuid

from celery import shared_task


@shared_task(name="applications.import_arrivals", acks_late=True)
def import_arrivals_task(import_id: str) -> str | None:
    """Import one uploaded J-LIS arrivals file (apps.applications.arrivals).

    acks_late: a worker that dies mid-import leaves the message for another worker; the
    import is one transaction and is claimed once, so a second delivery does nothing (a run
    that died is claimable again after ``RUNNING_STALE_AFTER``).
    """
    from apps.applications.arrivals import arrival_import_run

    run = arrival_import_run(import_id=uuid.UUID(import_id))
    return run.record.state if run else None


@shared_task(name="applications.resume_imports")
def resume_imports_task() -> int:
    """The resume sweep (beat, every JOBS_RESUME_SECONDS): a message for every import still
    queued (apps.core.jobs); an import already running or done is claimed, so nothing
    happens twice."""
    from apps.applications.arrivals import _enqueue_import, imports_queued

    queued = imports_queued()
    for import_id in queued:
        _enqueue_import(str(import_id))
    return len(queued)


@shared_task(name="applications.continued_use_void_due", acks_late=True)
def continued_use_void_due_task(on: str | None = None) -> int:
    """Issue 10, R-CHG-4: void the cards whose continued use was not registered in
    time (``on``: ISO date, default today). Idempotent: a repeated beat voids nothing twice."""
    from datetime import date

    from django.utils import timezone

    from apps.applications.services_changes import CONTINUED_USE_JOB, continued_use_void_due

    day = date.fromisoformat(on) if on else timezone.localdate()
    return continued_use_void_due(acting_user=CONTINUED_USE_JOB, on=day)
