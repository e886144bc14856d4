"""The test run connects as the application's role, as production does (R-AUD-2).

pytest-django creates and migrates the test database as the owner (the DATABASE_URL user).
Then `db_roles` creates `madoguchi_app`, and every connection of the run, the live server's
and the Celery workers' included, uses that role: a grant the application lacks fails a test.

Two things still need the owner: dropping the test database at the end, and the flush between
transactional tests (a TRUNCATE of every table, which the access log's trigger refuses to
anyone). The flush runs on an owner connection with triggers off (session_replication_role),
which only the owner, a superuser here, may set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
from django.db import connections
from django.db.backends.base.operations import BaseDatabaseOperations

from apps.audit.dbroles import APP_ROLE

_owner: dict[str, Any] = {}


def owner_params() -> dict[str, Any]:
    """Connection parameters of the owner, for psycopg.connect."""
    params = {
        "dbname": _owner["NAME"],
        "user": _owner["USER"],
        "host": _owner.get("HOST") or None,
        "port": _owner.get("PORT") or None,
        "password": _owner.get("PASSWORD") or None,
    }
    return {k: v for k, v in params.items() if v is not None}


def app_params() -> dict[str, Any]:
    params = owner_params()
    params["user"] = APP_ROLE
    params.pop("password", None)
    if os.environ.get("MADOGUCHI_APP_PASSWORD"):
        params["password"] = os.environ["MADOGUCHI_APP_PASSWORD"]
    return params


def database_url(*, owner: bool = False) -> str:
    """DATABASE_URL of the test database as the default connection uses it (the app role),
    for subprocesses: Celery workers, management commands, the reader agent's server."""
    db = _owner if owner else connections["default"].settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or ""
    name = quote(db["NAME"])
    if host.startswith("/"):
        return f"postgres://{auth}@/{name}?host={quote(host)}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{name}"


@contextmanager
def owner_connection(*, triggers: bool = True) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(**owner_params(), autocommit=True) as conn:
        if not triggers:
            conn.execute("SET session_replication_role = replica")
        yield conn


def _flush_as_owner(self: BaseDatabaseOperations, sql_list: Iterable[str]) -> None:
    with owner_connection(triggers=False) as conn:
        for statement in sql_list:
            conn.execute(statement)


_original_flush = BaseDatabaseOperations.execute_sql_flush


def switch_to_app_role() -> None:
    settings = connections["default"].settings_dict
    _owner.update(settings)
    for alias in connections:
        connection = connections[alias]
        connection.close()
        connection.settings_dict["USER"] = APP_ROLE
        connection.settings_dict["PASSWORD"] = os.environ.get("MADOGUCHI_APP_PASSWORD", "")
    BaseDatabaseOperations.execute_sql_flush = _flush_as_owner  # type: ignore[method-assign]


def switch_to_owner() -> None:
    BaseDatabaseOperations.execute_sql_flush = _original_flush  # type: ignore[method-assign]
    for alias in connections:
        connection = connections[alias]
        connection.close()
        connection.settings_dict["USER"] = _owner["USER"]
        connection.settings_dict["PASSWORD"] = _owner.get("PASSWORD", "")
