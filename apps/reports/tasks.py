"""Celery tasks of the reports app (beat: config/celery.py); idempotent."""

from __future__ import annotations

from celery import shared_task

from apps.reports.summaries import refresh


@shared_task(name="reports.refresh", acks_late=True)
def reports_refresh_task() -> None:
    """Recompute the expiry wave and the measured counter time (a few seconds at 3,000,000
    cards); the pages keep reading the previous result meanwhile."""
    refresh()
