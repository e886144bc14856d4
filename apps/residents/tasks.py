"""Celery tasks of the residents app: dates in, counts out; idempotent (beat: config/celery.py)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.residents.services import RETENTION_JOB, residents_erase_my_numbers


@shared_task(name="residents.erase_my_numbers", acks_late=True)
def residents_erase_my_numbers_task(on: str | None = None) -> int:
    """Erase the My Numbers whose retention period has passed (``on``: ISO date, default today)."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    return residents_erase_my_numbers(acting_user=RETENTION_JOB, today=day)
