from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.demo.seed import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the fictional demo city once (offices, staff, residents, cards)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--residents", type=int, default=300)

    def handle(self, *args: Any, residents: int, **options: Any) -> None:
        report = seed_demo(today=timezone.localdate(), residents=residents)
        if report is None:
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(
                f"Loaded {report.residents} residents, {report.cards} cards and "
                f"{report.applications} applications."
            )
        self.stdout.write(
            f"Demo logins (password: {DEMO_PASSWORD}, then the code of `manage.py demo_totp`):"
        )
        for username, role in [
            ("clerk_a", "窓口職員 / 本庁 (1番窓口)"),
            ("clerk_a2", "窓口職員 / 本庁 (2番窓口)"),
            ("clerk_b", "窓口職員 / 錦岡支所"),
            ("supervisor_a", "監督者 / 本庁"),
            ("auditor", "監査担当"),
            ("admin", "システム管理者 (/admin/)"),
        ]:
            self.stdout.write(f"  {username:<14} {role}")
