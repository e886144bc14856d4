"""`manage.py expire_due [--date YYYY-MM-DD]`: the daily expiry job by hand (make run runs it).

The same services the beat schedule's tasks call: cards, then certificates, whose expiry has
passed by the date become EXPIRED. Idempotent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.cards.services import cards_expire_due
from apps.certificates.services import certificates_expire_due
from apps.core.commands import date_argument
from apps.core.service import SystemActor

COMMAND = SystemActor("manage.py expire_due")


class Command(BaseCommand):
    help = "有効期限を過ぎたカードと電子証明書を「有効期限切れ」にします。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date_argument, help="基準日 (YYYY-MM-DD)。省略時は今日")

    def handle(self, *args: Any, **options: Any) -> None:
        on: date = options["date"] or timezone.localdate()
        cards = cards_expire_due(acting_user=COMMAND, on=on)
        certificates = certificates_expire_due(acting_user=COMMAND, on=on)
        self.stdout.write(f"on={on.isoformat()} cards={cards} certificates={certificates}")
