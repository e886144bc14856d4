"""Celery tasks of the certificates app: dates in, counts out; idempotent.

The beat schedule is in config/celery.py.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.certificates.services import EXPIRY_JOB, certificates_expire_due


@shared_task(name="certificates.expire_due", acks_late=True)
def certificates_expire_due_task(on: str | None = None) -> int:
    """Move the certificates whose expiry has passed (``on``: ISO date, default today)."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    return certificates_expire_due(acting_user=EXPIRY_JOB, on=day)
