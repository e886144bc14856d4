"""Celery tasks of the cards app: dates in, counts out; idempotent (beat: config/celery.py)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from apps.cards.services import EXPIRY_JOB, cards_expire_due


@shared_task(name="cards.expire_due", acks_late=True)
def cards_expire_due_task(on: str | None = None) -> int:
    """Move the cards whose expiry has passed (``on``: ISO date, default today)."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    return cards_expire_due(acting_user=EXPIRY_JOB, on=day)


@shared_task(name="cards.import_suspensions", acks_late=True)
def import_suspensions_task(import_id: str) -> int:
    """Import one uploaded call-centre CSV (apps.cards.suspensions); the import's id only.
    Idempotent: a second delivery, or a second worker at the same time, records nothing twice."""
    import uuid

    from apps.cards.suspensions import suspension_import_run

    return suspension_import_run(import_id=uuid.UUID(import_id)).created_count
