"""The Celery app: JSON only, tasks take ids (never personal data), schedule in code."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

from config.env import env

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("madoguchi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The schedule lives here, in code (not in a database), so every deployment runs the same
# jobs. Times are Asia/Tokyo (CELERY_TIMEZONE). Read from the environment directly: this
# module is imported with the `config` package, before Django settings may be loaded.
app.conf.beat_schedule = {
    # States follow the calendar: cards and certificates whose expiry has passed become
    # EXPIRED just after midnight (valid through their last day), before the notice run;
    # set-based and idempotent, so a late or repeated beat does no damage.
    "cards-expire-due": {"task": "cards.expire_due", "schedule": crontab(hour=0, minute=5)},
    "certificates-expire-due": {
        "task": "certificates.expire_due",
        "schedule": crontab(hour=0, minute=5),
    },
    # R-MYN-2: My Numbers kept past their retention period after departure are erased.
    "residents-erase-my-numbers": {
        "task": "residents.erase_my_numbers",
        "schedule": crontab(hour=1, minute=0),
    },
    # The reports' expiry wave and measured counter time, after the day's expiries moved.
    "reports-refresh": {"task": "reports.refresh", "schedule": crontab(hour=0, minute=40)},
    # R-NOT-1…3, R-ISS-1: the day's expiry notices, stay reminders and missed pickup
    # notices; re-runs are harmless (R-NOT-2), so a late or repeated beat does no damage.
    "notices-daily": {
        "task": "notices.run_daily",
        "schedule": crontab(
            hour=env.integer("NOTICE_RUN_HOUR", 5, minimum=0),
            minute=env.integer("NOTICE_RUN_MINUTE", 30, minimum=0),
        ),
    },
}
