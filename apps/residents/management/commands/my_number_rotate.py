from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.residents.services import my_numbers_reencrypt_batch, my_numbers_under_old_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored My Number under MY_NUMBER_ACTIVE_KEY_ID (R-MYN-2, key "
        "rotation), in batches of --batch-size, each its own transaction, printing progress. "
        "Resumable: run it again after an interruption and it goes on where it stopped. The "
        "old key must stay in MY_NUMBER_KEYS until this reports 0 left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="seconds between batches (spread the work over a working day)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, int(options["batch_size"]))
        left = my_numbers_under_old_keys()
        total = left
        done = 0
        self.stdout.write(
            f"key {settings.MY_NUMBER_ACTIVE_KEY_ID}: {left} My Numbers under older keys"
        )
        while True:
            count = my_numbers_reencrypt_batch(batch_size=batch_size)
            if count == 0:
                break
            done += count
            percent = 100 * done // total if total else 100
            self.stdout.write(f"re-encrypted {done}/{total} ({percent}%)")
            self.stdout.flush()
            if options["pause"]:
                time.sleep(options["pause"])
        left = my_numbers_under_old_keys()
        self.stdout.write(f"done: {done} re-encrypted, {left} left under older keys")
