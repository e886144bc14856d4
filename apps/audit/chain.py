"""Verify the access log's hash chain (R-AUD-2) from the stored values alone.

The database trigger (audit migration 0003) writes each row's hash; this module recomputes it
in Python, so a verifier does not trust the functions of the database it checks. The canonical
text is the same in both places: keep `canonical_text` and `audit_accesslog_hash` in step (a
test proves they agree).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection

from apps.audit.models import GENESIS_HASH

VERSION = "madoguchi-access-log-v1"

# Each value rendered by PostgreSQL exactly as the trigger renders it.
_ROWS = """
SELECT seq, id,
       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       coalesce(actor_id::text, ''), coalesce(office_id::text, ''),
       coalesce(counter_id::text, ''), coalesce(device_id::text, ''),
       coalesce(resident_id::text, ''),
       action, purpose, outcome, detail::text, coalesce(host(ip_address), ''),
       prev_hash, hash
FROM audit_accesslog
ORDER BY seq
"""


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold, and why."""

    row_id: int
    seq: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    rows: int
    head_hash: str
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def canonical_text(values: tuple[str, ...]) -> str:
    return "\n".join((VERSION, *values))


def row_hash(values: tuple[str, ...]) -> str:
    return hashlib.sha256(canonical_text(values).encode("utf-8")).hexdigest()


def _stream() -> Iterator[tuple[object, ...]]:
    # A named (server-side) cursor: millions of rows, constant memory.
    with connection.chunked_cursor() as cursor:
        cursor.execute(_ROWS)
        while batch := cursor.fetchmany(2000):
            yield from batch


def verify(rows: Iterable[tuple[object, ...]] | None = None) -> Verdict:
    """Walk the chain in `seq` order; stop at the first row that breaks it."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for row in _stream() if rows is None else rows:
        seq, row_id = int(str(row[0])), int(str(row[1]))
        *fields, prev_hash, stored_hash = (str(value) for value in row[2:])
        count += 1
        if seq != expected_seq:
            return Verdict(count, expected_prev, Break(row_id, seq, f"連番の欠落 ({expected_seq})"))
        if prev_hash != expected_prev:
            return Verdict(count, expected_prev, Break(row_id, seq, "前の行のハッシュが不一致"))
        computed = row_hash((str(seq), str(row_id), *fields, prev_hash))
        if computed != stored_hash:
            return Verdict(count, expected_prev, Break(row_id, seq, "行の内容とハッシュが不一致"))
        expected_prev = stored_hash
        expected_seq += 1
    return Verdict(count, expected_prev, None)
