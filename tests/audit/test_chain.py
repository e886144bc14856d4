"""R-AUD-2: the access log is a hash chain the application's database role cannot rewrite.

These tests use real connections: `madoguchi_app` (what the server runs as) and the owner
(what migrations run as). The rows they look at must be committed, hence transactional tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import User
from apps.audit.chain import verify
from apps.audit.dbroles import APP_ROLE, append_only_tables
from apps.audit.models import GENESIS_HASH, AccessLog, Action, Outcome
from apps.audit.services import access_log_record
from tests import dbrole

pytestmark = pytest.mark.django_db(transaction=True)

IGNORE = "SET LOCAL pgtrigger.ignore = '{pgtrigger_access_log_append_only_d3c16}'"


def _run(conn: psycopg.Connection, statement: str, *, with_ignore: bool) -> None:
    if with_ignore:
        conn.execute(IGNORE)
    conn.execute(statement)


def _write(actor: User, n: int = 3) -> list[AccessLog]:
    rows = []
    for _ in range(n):
        with transaction.atomic():
            rows.append(access_log_record(actor=actor, action=Action.SEARCH, detail={"m": 1}))
    return rows


def test_r_aud_2_each_row_chains_to_the_previous_one(clerk_a: User) -> None:
    rows = _write(clerk_a, 3)
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash
    assert len({row.hash for row in rows}) == 3
    # The Python verifier recomputes what the database trigger wrote.
    verdict = verify()
    assert verdict.ok
    assert verdict.rows == 3
    assert verdict.head_hash == rows[2].hash


def test_r_aud_2_at_is_the_database_clock_not_the_clients(clerk_a: User) -> None:
    """A backdated row from the application's own connection is stamped with now."""
    backdated = datetime(2001, 1, 1, tzinfo=UTC)
    with psycopg.connect(**dbrole.app_params(), autocommit=True) as conn:
        stored = conn.execute(
            "INSERT INTO audit_accesslog (at, actor_id, action, purpose, outcome, detail,"
            " seq, prev_hash, hash) VALUES (%s, %s, 'search', '', 'ok', '{}', 999, 'x', 'y')"
            " RETURNING at, seq, prev_hash",
            [backdated, clerk_a.pk],
        ).fetchone()
    assert stored is not None
    at, seq, prev_hash = stored
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=1)
    assert (seq, prev_hash) == (1, GENESIS_HASH)  # the trigger numbers and chains, not the client
    assert verify().ok


@pytest.mark.parametrize("with_ignore", [False, True], ids=["plain", "pgtrigger.ignore"])
def test_r_aud_2_the_app_role_cannot_update_delete_or_truncate(
    clerk_a: User, with_ignore: bool
) -> None:
    _write(clerk_a, 1)
    statements = [
        "UPDATE audit_accesslog SET action = 'export'",
        "DELETE FROM audit_accesslog",
        "TRUNCATE audit_accesslog",
    ]
    with psycopg.connect(**dbrole.app_params()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        for statement in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                _run(conn, statement, with_ignore=with_ignore)
    assert AccessLog.objects.get().action == Action.SEARCH


@pytest.mark.parametrize("with_ignore", [False, True], ids=["plain", "pgtrigger.ignore"])
def test_r_aud_2_even_the_owner_is_refused_while_triggers_are_on(
    clerk_a: User, with_ignore: bool
) -> None:
    """The triggers are ours, not pgtrigger's: its ignore setting does not switch them off."""
    _write(clerk_a, 1)
    with dbrole.owner_connection() as conn:
        for statement in (
            "UPDATE audit_accesslog SET action = 'export'",
            "DELETE FROM audit_accesslog",
            "TRUNCATE audit_accesslog",
        ):
            with (
                pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
                conn.transaction(),
            ):
                _run(conn, statement, with_ignore=with_ignore)
    assert AccessLog.objects.count() == 1


def test_r_aud_2_audit_verify_names_a_row_the_owner_edited(
    clerk_a: User, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _write(clerk_a, 4)
    call_command("audit_verify")
    assert f"OK rows=4 head={rows[-1].hash}" in capsys.readouterr().out

    # The owner, with every trigger off, changes what row 3 says happened.
    with dbrole.owner_connection(triggers=False) as conn:
        conn.execute(
            "UPDATE audit_accesslog SET action = 'view_resident' WHERE id = %s", [rows[2].pk]
        )
    with pytest.raises(CommandError, match=f"id={rows[2].pk}"):
        call_command("audit_verify")
    assert f"BROKEN id={rows[2].pk} seq=3" in capsys.readouterr().err


def test_r_aud_2_audit_verify_exits_non_zero_from_the_shell(clerk_a: User) -> None:
    """The exit status, as a cron job or an auditor's script sees it."""
    rows = _write(clerk_a, 2)
    with dbrole.owner_connection(triggers=False) as conn:
        conn.execute("DELETE FROM audit_accesslog WHERE id = %s", [rows[0].pk])
    env = {**os.environ, "DATABASE_URL": dbrole.database_url()}
    done = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert f"BROKEN id={rows[1].pk}" in done.stderr


def test_r_aud_2_concurrent_writers_do_not_fork_the_chain(clerk_a: User, clerk_b: User) -> None:
    """Eight threads append at once, each in its own transaction and connection."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(actor: User) -> None:
        try:
            start.wait()
            for _ in range(5):
                with transaction.atomic():
                    access_log_record(actor=actor, action=Action.SEARCH)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(a,)) for a in [clerk_a, clerk_b] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AccessLog.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 41))
    assert verify().ok


def test_r_aud_2_db_roles_is_idempotent_and_grants_no_truncate(clerk_a: User) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "db_roles"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": dbrole.database_url(owner=True)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"role {APP_ROLE}: grants applied" in done.stdout
    # Run as the application's role it refuses: that role must own nothing.
    with pytest.raises(CommandError, match="must run as the tables' owner"):
        call_command("db_roles", verbosity=0)
    with dbrole.owner_connection() as conn:
        truncatable = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            " AND has_table_privilege(%s, c.oid, 'TRUNCATE')",
            [APP_ROLE],
        ).fetchall()
        rewritable = conn.execute(
            "SELECT t FROM unnest(%s::text[]) t WHERE has_table_privilege(%s, t, 'UPDATE')"
            " OR has_table_privilege(%s, t, 'DELETE')",
            [append_only_tables(), APP_ROLE, APP_ROLE],
        ).fetchall()
        owns = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tableowner = %s", [APP_ROLE]
        ).fetchone()
    assert truncatable == []
    assert rewritable == []
    assert owns == (0,)
    assert len(append_only_tables()) > 1  # the change history too


def test_r_aud_1_failed_sign_in_rows_may_have_no_actor_but_others_must() -> None:
    with transaction.atomic():
        row = access_log_record(actor=None, action=Action.SIGN_IN_FAILED, outcome=Outcome.FAILED)
    assert row.seq == 1
    with pytest.raises(IntegrityError, match="accesslog_actor_unless"), transaction.atomic():
        access_log_record(actor=None, action=Action.SEARCH)


def test_the_application_role_plans_without_parallel_workers(clerk_a: User) -> None:
    """db_roles (run at the start of the test run) sets it for the role in this database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone() == (APP_ROLE, "0")
    with dbrole.owner_connection() as conn:
        owner = conn.execute("SELECT current_setting('max_parallel_workers_per_gather')").fetchone()
    assert owner is not None
    assert owner[0] != "0"  # the owner (migrations, maintenance) keeps the server's setting
