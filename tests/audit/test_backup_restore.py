"""README "Deploying → Backup and restore", as written: `pg_dump -Fc` of the live database,
`pg_restore` into a fresh database, and the access log's hash chain still verifies there
(`manage.py audit_verify`, R-AUD-2). The copy is then tampered with (a row's action
rewritten by the owner with triggers off), and audit_verify on it fails: the check is real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import transaction
from psycopg import sql

from apps.accounts.models import User
from apps.audit.models import AccessLog, Action
from apps.audit.services import access_log_record
from tests import dbrole
from tests.services import require

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"{dbrole.owner_params()['dbname']}_restore_{uuid.uuid4().hex[:6]}"
    params = {**dbrole.owner_params(), "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _libpq_env(dbname: str) -> dict[str, str]:
    owner = dbrole.owner_params()
    env = {**os.environ, "PGDATABASE": dbname, "PGUSER": owner["user"]}
    if owner.get("host"):
        env["PGHOST"] = owner["host"]
    if owner.get("port"):
        env["PGPORT"] = str(owner["port"])
    if owner.get("password"):
        env["PGPASSWORD"] = owner["password"]
    return env


def _audit_verify(dbname: str) -> subprocess.CompletedProcess[str]:
    owner = dbrole.database_url(owner=True)
    url = owner.rsplit("/", 1)[0] + "/" + dbname
    return subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DATABASE_USER": "madoguchi_app"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_r_aud_2_a_restored_backup_still_verifies(
    transactional_db: Any, clerk_a: User, tmp_path: Path, fresh_database: str
) -> None:
    require(shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None,
            "pg_dump and pg_restore (postgresql-client)")  # fmt: skip
    for n in range(5):
        with transaction.atomic():
            access_log_record(actor=clerk_a, action=Action.SEARCH, detail={"n": n})
    live = dbrole.owner_params()["dbname"]
    dump = tmp_path / "madoguchi.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump)], env=_libpq_env(live), check=True)
    subprocess.run(
        ["pg_restore", "--exit-on-error", "--no-owner", "--role", dbrole.owner_params()["user"],
         "-d", fresh_database, str(dump)],
        env=_libpq_env(fresh_database),
        check=True,
    )  # fmt: skip
    restored = _audit_verify(fresh_database)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"OK rows={AccessLog.objects.count()}" in restored.stdout
    head = AccessLog.objects.order_by("-seq").values_list("hash", flat=True).first()
    assert f"head={head}" in restored.stdout  # the same head: the same chain

    with psycopg.connect(**{**dbrole.owner_params(), "dbname": fresh_database}) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE audit_accesslog SET action = 'export' WHERE seq = 3")
    tampered = _audit_verify(fresh_database)
    assert tampered.returncode != 0
    assert "BROKEN" in tampered.stderr
