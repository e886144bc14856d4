"""`manage.py migrate`, with each migration and its record in django_migrations committed together.

Django applies an atomic migration in one transaction, but when the migration leaves deferred
SQL (the indexes and foreign keys of a new table) it records the migration only after that
transaction has committed. A migrate stopped in between (a second Ctrl-C, a closed terminal, a
container stopped, a machine losing power) leaves tables that exist under a migration that is
not recorded, and every later migrate fails with "relation … already exists". `make run`'s first
command must survive being killed at any point (tests/core/test_embedded_db.py kills it while it
migrates), so here the record joins the migration's own transaction. Migrations that are not
atomic (concurrent index builds) are applied as Django applies them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate
from django.db import transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState


class _RecordingInTheSameTransaction(MigrationExecutor):
    def apply_migration(
        self,
        state: ProjectState,
        migration: Migration,
        fake: bool = False,
        fake_initial: bool = False,
    ) -> ProjectState:
        if fake or not migration.atomic or not self.connection.features.can_rollback_ddl:
            return super().apply_migration(state, migration, fake=fake, fake_initial=fake_initial)
        # The schema editor's own transaction becomes a savepoint of this one, so its deferred
        # SQL and Django's record of the migration commit at the same moment.
        with transaction.atomic(using=self.connection.alias):
            return super().apply_migration(state, migration, fake=fake, fake_initial=fake_initial)


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        # Django's command builds its executor from the name in its own module; it offers no
        # other way to choose the executor, so the name is swapped for this command's run only.
        names = vars(migrate)  # the module's namespace (the stubs do not list the import)
        default = names["MigrationExecutor"]
        names["MigrationExecutor"] = _RecordingInTheSameTransaction
        try:
            super().handle(*args, **options)
        finally:
            names["MigrationExecutor"] = default
