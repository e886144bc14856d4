"""The database role the application runs as (R-AUD-2).

Migrations run as the owner of the tables; the web server, the Celery workers and the jobs
connect as `madoguchi_app`, a role that owns nothing. It may read and write the business
tables but only SELECT and INSERT the access log and the change history, and it cannot TRUNCATE
anything, alter a table or disable a trigger: a compromised application cannot rewrite the
record of what it did. `manage.py db_roles` applies this, run with the owner's connection
after every `migrate` (it is idempotent and resets the role's table grants each time).
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from psycopg import sql

APP_ROLE = "madoguchi_app"


def append_only_tables() -> list[str]:
    """The access log and every pghistory event table: rows are added and read, never changed."""
    from pghistory.models import Event

    tables = ["audit_accesslog"]
    for model in apps.get_models():
        if issubclass(model, Event) and not model._meta.proxy and model._meta.managed:
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def apply_roles(*, role: str = APP_ROLE, password: str | None = None) -> list[str]:
    """Create or update `role` with the grants the application needs. Returns the statements
    run (passwords masked), for the command's output."""
    ran: list[str] = []
    ident = sql.Identifier(role)

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if owner == role:
            raise RuntimeError(f"db_roles must run as the tables' owner, not as {role}")
        cursor.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = %s",
            [schema, "audit_accesslog"],
        )
        found = cursor.fetchone()
        if found is None:
            raise RuntimeError("audit_accesslog is missing: run migrate first")

        def run(statement: sql.Composable, shown: str | None = None) -> None:
            cursor.execute(statement)
            ran.append(shown or statement.as_string(cursor.connection))

        # CREATE ROLE has no IF NOT EXISTS; two deployments racing is harmless.
        run(
            sql.SQL(
                "DO $$ BEGIN CREATE ROLE {} LOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            ).format(ident)
        )
        run(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            ).format(ident)
        )
        if password:
            run(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)),
                f"ALTER ROLE {role} PASSWORD '********'",
            )
        # The server answers many short queries at once on few cores: a parallel plan's
        # workers cost more than they save there (the supervisor's home, capped counts of the
        # card stock at 3,000,000 cards: 21 ms with two workers, 9 ms without; bench/pages.py).
        # Set in this database only: the role is the whole cluster's.
        run(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET max_parallel_workers_per_gather = 0").format(
                ident, sql.Identifier(database)
            )
        )
        schema_id = sql.Identifier(schema)
        run(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), ident
            )
        )
        run(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema_id, ident))
        run(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, ident))
        # Start from nothing, so a grant removed here is removed in the database too.
        run(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_id, ident))
        run(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema_id, ident
            )
        )
        for table in append_only_tables():
            run(
                sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(
                    sql.Identifier(schema, table), ident
                )
            )
        run(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(
                sql.Identifier(schema, "django_migrations"), ident
            )
        )
        run(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema_id, ident))
        run(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                schema_id, ident
            )
        )
    return ran
