from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.core.service import SystemActor
from apps.residents.services import residents_erase_my_numbers

COMMAND = SystemActor("manage.py erase_my_numbers")


class Command(BaseCommand):
    help = (
        "Erase the My Number of residents who left (moved out or died) more than "
        "MY_NUMBER_RETENTION_DAYS ago; the daily beat job does the same."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["date"] or timezone.localdate()
        count = residents_erase_my_numbers(acting_user=COMMAND, today=today)
        self.stdout.write(f"erased {count} My Numbers (residents who left before the period)")
