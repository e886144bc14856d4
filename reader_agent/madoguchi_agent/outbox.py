"""Durable outbox for card reads and heartbeats (SQLite in the config dir).

Why: the counter must keep working while the server or network is away. A card read (AUTH
certificate serial, validity, PIN counters) is written here first and sent in order when the
server is back, also after the agent restarts. Every read has a UUID `read_id`, so a resend
after a crash between "server stored it" and "we deleted it" is answered as a duplicate and
dropped: nothing lost, nothing stored twice.

Never here: text-AP reads (My Number, name, address...). `enqueue` refuses them (R-MYN-2);
they are sent directly and the clerk retries if that fails.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .client import Outcome, utc_now_iso

OUTBOX_FILE = "outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- send order; AUTOINCREMENT never reuses
    item_id    TEXT NOT NULL UNIQUE,               -- read_id for reads
    kind       TEXT NOT NULL CHECK (kind IN ('read', 'heartbeat')),
    path       TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at REAL NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS rejected (
    item_id     TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    path        TEXT NOT NULL,
    body        BLOB NOT NULL,
    rejected_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    item_id: str
    kind: str
    path: str
    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class FlushResult:
    delivered: int
    rejected: int
    remaining: int
    stopped_on_retry: bool


Deliver = Callable[[str, bytes], Outcome]


class Outbox:
    def __init__(self, path: Path) -> None:
        if not path.parent.exists():
            path.parent.mkdir(parents=True)
            # Same rule as the key's folder: other local users have no business here.
            with contextlib.suppress(OSError):
                path.parent.chmod(0o700)
        self.path = path
        # autocommit mode; each write is its own transaction, fsynced (synchronous=FULL) so a
        # power cut at the counter loses nothing that was reported as queued.
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        if path.exists():
            with contextlib.suppress(OSError):
                path.chmod(0o600)

    @classmethod
    def in_dir(cls, config_dir: Path) -> Outbox:
        return cls(config_dir / OUTBOX_FILE)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------

    def enqueue_read(self, path: str, body: bytes) -> str:
        """Queue a card read; returns its read_id. Refuses any body carrying text-AP data."""
        payload = json.loads(body)
        if payload.get("text") is not None or payload.get("kind") != "card":
            raise ValueError("text-AP reads are personal data and are never written to disk")
        read_id = str(payload["read_id"])
        self._insert(read_id, "read", path, body)
        return read_id

    def enqueue_heartbeat(self, path: str, body: bytes, item_id: str) -> None:
        """Queue a heartbeat, replacing any unsent one: only the latest state matters, and a
        long outage must not pile up thousands of stale heartbeats ahead of the reads."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM outbox WHERE kind = 'heartbeat'")
                self._db.execute(
                    "INSERT INTO outbox (item_id, kind, path, body, created_at)"
                    " VALUES (?, 'heartbeat', ?, ?, ?)",
                    (item_id, path, body, time.time()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _insert(self, item_id: str, kind: str, path: str, body: bytes) -> None:
        with self._lock:
            # OR IGNORE: queuing the same read_id twice must not send it twice.
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (item_id, kind, path, body, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (item_id, kind, path, body, time.time()),
            )

    # --- reading -----------------------------------------------------------------------------

    def pending(self, limit: int | None = None) -> list[OutboxItem]:
        sql = "SELECT seq, item_id, kind, path, body, attempts FROM outbox ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql).fetchall()
        return [OutboxItem(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            if kind is None:
                row = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE kind = ?", (kind,)
                ).fetchone()
        return int(row[0])

    def __len__(self) -> int:
        return self.count()

    def rejected_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM rejected").fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def last_push_at(self) -> str | None:
        return self.get_meta("last_push_at")

    # --- sending -----------------------------------------------------------------------------

    def flush(self, deliver: Deliver, *, max_items: int | None = None) -> FlushResult:
        """Send queued items oldest first; stop at the first RETRY so the order is kept."""
        delivered = rejected = 0
        stopped = False
        with self._flush_lock:
            while max_items is None or delivered + rejected < max_items:
                items = self.pending(limit=1)
                if not items:
                    break
                item = items[0]
                outcome = deliver(item.path, item.body)
                if outcome is Outcome.DELIVERED:
                    with self._lock:
                        self._db.execute("DELETE FROM outbox WHERE seq = ?", (item.seq,))
                    self.set_meta("last_push_at", utc_now_iso())
                    delivered += 1
                elif outcome is Outcome.REJECTED:
                    # Kept aside (not deleted) so an administrator can see what was refused.
                    with self._lock:
                        self._db.execute("BEGIN IMMEDIATE")
                        try:
                            self._db.execute(
                                "INSERT OR REPLACE INTO rejected"
                                " (item_id, kind, path, body, rejected_at) VALUES (?, ?, ?, ?, ?)",
                                (item.item_id, item.kind, item.path, item.body, time.time()),
                            )
                            self._db.execute("DELETE FROM outbox WHERE seq = ?", (item.seq,))
                            self._db.execute("COMMIT")
                        except BaseException:
                            self._db.execute("ROLLBACK")
                            raise
                    rejected += 1
                else:
                    with self._lock:
                        self._db.execute(
                            "UPDATE outbox SET attempts = attempts + 1, last_error = ?"
                            " WHERE seq = ?",
                            (outcome.value, item.seq),
                        )
                    stopped = True
                    break
        return FlushResult(delivered, rejected, self.count(), stopped)
