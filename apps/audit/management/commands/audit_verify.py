from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit.chain import verify


class Command(BaseCommand):
    help = (
        "Check the access log's hash chain (R-AUD-2). Prints the id of the first broken row "
        "and exits non-zero; on success prints the row count and the head hash (record it "
        "outside the database: a later run that no longer reaches it shows a rewrite)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = verify()
        if verdict.broken is not None:
            broken = verdict.broken
            self.stderr.write(f"BROKEN id={broken.row_id} seq={broken.seq}: {broken.reason}")
            raise CommandError(f"access log chain broken at row id={broken.row_id}")
        self.stdout.write(f"OK rows={verdict.rows} head={verdict.head_hash}")
