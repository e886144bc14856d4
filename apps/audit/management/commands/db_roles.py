from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.dbroles import APP_ROLE, apply_roles


class Command(BaseCommand):
    help = (
        "Create or update the application's database role (default madoguchi_app) with the "
        "grants it needs and only SELECT and INSERT on the access log (R-AUD-2). Run it with "
        "the owner's DATABASE_URL after every migrate; it is idempotent. The role's password "
        "is taken from MADOGUCHI_APP_PASSWORD (or the file MADOGUCHI_APP_PASSWORD_FILE names)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default=APP_ROLE)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ran = apply_roles(role=options["role"], password=settings.MADOGUCHI_APP_PASSWORD)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 2:
            for statement in ran:
                self.stdout.write(statement)
        if options["verbosity"] >= 1:
            self.stdout.write(f"role {options['role']}: grants applied")
