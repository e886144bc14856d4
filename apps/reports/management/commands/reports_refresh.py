"""`manage.py reports_refresh`: the nightly summaries of the reports by hand (make run runs it).

The same function the beat schedule's ``reports.refresh`` task calls: the expiry wave, the
measured counter time and the daily activity are recomputed from what the database holds now,
so the demo's reports show its data rather than "not computed yet". Idempotent.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from apps.reports.summaries import refresh


class Command(BaseCommand):
    help = "帳票の集計（有効期限の波・窓口の所要時間・日ごとの受付）を作り直します。"

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        refresh()
        self.stdout.write(f"reports refreshed in {time.monotonic() - started:.1f} s")
