"""Database backend for the embedded server: PostgreSQL, started on the first connection.

``settings.DATABASES`` names this backend when DATABASE_URL is unset. Importing the settings
therefore starts nothing; the first process that really opens a connection makes sure the
server runs and the database exists (once per process), then connects as plain psycopg does.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.postgresql import base

from config import devdb

_ready: set[str] = set()
_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        database = str(self.settings_dict.get("NAME") or "postgres")
        if database not in _ready:
            with _lock:
                if database not in _ready:
                    devdb.ensure_server()
                    # The test runner connects to "postgres" to create its own database.
                    if database != "postgres":
                        devdb.ensure_database(database)
                    _ready.add(database)
        return super().get_new_connection(conn_params)
