"""`manage.py notices_run --date YYYY-MM-DD`: the daily notice job for one day, by hand.

The same service the scheduled task calls (apps.notices.services.notices_run). Rendering of
the new batches is queued afterwards: without REDIS_URL Celery is eager and renders here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.core.commands import date_argument
from apps.core.service import SystemActor
from apps.notices.models import NoticeBatch, NoticeRun
from apps.notices.rules import NoticeKind, expiry_window
from apps.notices.services import batches_render_enqueue, notices_run


class Command(BaseCommand):
    help = "有効期限通知書・在留期間のお知らせ・交付通知書をその日の分だけ作成します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date_argument, help="基準日 (YYYY-MM-DD)。省略時は今日")
        parser.add_argument(
            "--no-render", action="store_true", help="PDF・CSVを作成しない（束だけ作る）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        on: date = options["date"] or timezone.localdate()
        first, last = expiry_window(on)
        self.stdout.write(
            f"基準日 {on.isoformat()}: 有効期限 {first.isoformat()}〜{last.isoformat()} が対象"
        )
        result = notices_run(
            acting_user=SystemActor("manage.py notices_run"),
            on=on,
            trigger=NoticeRun.Trigger.COMMAND,
            render=False,
        )
        for kind in NoticeKind:
            self.stdout.write(
                f"  {kind.label} ({kind.value}): {result.created.get(kind.value, 0)}通"
            )
        self.stdout.write(
            f"created={result.total} batches={len(result.batch_ids)} run={result.run_id}"
        )
        if options["no_render"] or not result.batch_ids:
            return
        batches_render_enqueue(batch_ids=result.batch_ids)
        states = NoticeBatch.objects.filter(pk__in=result.batch_ids).values_list(
            "render_state", flat=True
        )
        done = sum(1 for state in states if state == NoticeBatch.RenderState.DONE)
        if done == len(result.batch_ids):
            self.stdout.write(f"PDF・CSVを作成しました: {done}束")
        else:
            self.stdout.write(
                f"PDF・CSVの作成を依頼しました: {len(result.batch_ids)}束（作成済 {done}）"
            )
