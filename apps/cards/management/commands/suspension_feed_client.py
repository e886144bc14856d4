"""`manage.py suspension_feed_client NAME`: a credential for the call centre's feed.

Prints the bearer token once (only its SHA-256 is kept); it opens POST /api/v1/suspensions
and nothing else (R-SUS-1).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.cards.suspensions import suspension_feed_client_create
from apps.core.service import SystemActor

COMMAND = SystemActor("manage.py suspension_feed_client")


class Command(BaseCommand):
    help = "コールセンターの一時停止連携用の認証情報を作成し、トークンを一度だけ表示します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="クライアントの名称")

    def handle(self, *args: Any, **options: Any) -> None:
        client, token = suspension_feed_client_create(acting_user=COMMAND, name=options["name"])
        self.stdout.write(f"client={client.name}\ntoken={token}")
