"""Celery tasks of the custody app: dates in, never personal data; idempotent."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.custody.services import RECONCILE_JOB, reconciliation_record


@shared_task(name="custody.reconcile_daily", acks_late=True)
def reconcile_daily(on: str | None = None) -> dict[str, int]:
    """The daily reconciliation (beat schedule in config/celery.py): every office's handovers
    per counter against the custody ledger, the counts, and the reads that blocked a
    handover. ``on``: ISO date, default today. A re-run replaces that day's rows."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    rows = reconciliation_record(acting_user=RECONCILE_JOB, on=day)
    return {str(row.office_id): row.problems for row in rows}
