# ruff: noqa: S608 - only table names and enum literals from this code are formatted into the
# SQL below; every value from outside is a bound parameter.
"""The set-based SQL of the notice job: select what is due, batch it, insert it, once.

Why raw SQL: a big city has ~3 million cards and twice as many certificates. The job must read
only the expiries inside the notice window (an index range scan over the partial indexes
``card_current_expiry`` and ``certificate_active_expiry``), and create tens of thousands of
notices in one statement per kind, not one ORM round trip per card.

What must stay true:
- R-NOT-2: every INSERT ends in ``ON CONFLICT DO NOTHING`` against ``notice_one_per_event`` /
  ``notice_one_pickup_per_card``, so a second run, or a second worker running at the same
  moment, cannot create a second notice for the same event. The ``NOT EXISTS`` probes only
  keep a re-run cheap; the unique indexes are what make it exact.
- Batches are created in the same statement as their notices, so a batch never exists
  without its letters; the counts come back from what was really inserted.
- Callers hold :data:`JOB_LOCK` (a transaction-level advisory lock) so that concurrent runs
  queue instead of splitting one day's letters over two sets of batches.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from django.db import connection

from apps.cards.models import Card
from apps.cards.rules import CardState, national_card_expiry
from apps.certificates.models import Certificate, CertificateState
from apps.notices.models import Notice, NoticeBatch
from apps.notices.rules import NoticeKind, card_ends_with_period_of_stay
from apps.residents.models import Resident

# pg_advisory_xact_lock key: "notices" as a number. Any constant works; it only has to be
# the same for every caller that creates notices.
JOB_LOCK: Final = 0x6E6F7469636573

_CURRENT = f"('{CardState.ACTIVE.value}', '{CardState.SUSPENDED.value}')"
# A newer card that is ordered or waiting at the city is a renewal (or reissue) under way:
# the holder has already acted, so the old card gets no expiry notice.
_PENDING = f"('{CardState.ORDERED.value}', '{CardState.ARRIVED.value}')"

_T = {
    "card": Card._meta.db_table,
    "certificate": Certificate._meta.db_table,
    "resident": Resident._meta.db_table,
    "notice": Notice._meta.db_table,
    "batch": NoticeBatch._meta.db_table,
}

# Every "not yet" check is a correlated NOT EXISTS with OFFSET 0: that keeps it a probe of one
# index per due row (the unique notice index; the small partial index notices_card_pending of
# migration 0002). Without it the planner may turn it into a hash anti join that reads every
# notice ever sent (tens of millions after a few years) or every card, to find a few thousand.
_NO_PENDING_RENEWAL = """NOT EXISTS (
        SELECT 1 FROM {card} p
        WHERE p.resident_id = c.resident_id AND p.state IN {pending}
        OFFSET 0
    )""".format(pending=_PENDING, **_T)


def _not_notified(expiry: str) -> str:
    return """NOT EXISTS (
        SELECT 1 FROM {notice} n
        WHERE n.card_id = c.id AND n.kind = %(kind)s AND n.expires_on = {expiry}
        OFFSET 0
    )""".format(expiry=expiry, **_T)


# Each "due" query yields: card_id, resident_id, office_id, expires_on, sort_key.
# The card's state literal must match the partial index predicate for the planner to use it.
_CARD_DUE = """
    SELECT c.id AS card_id, c.resident_id, r.office_id, c.expires_on, r.postal_code AS sort_key
    FROM {card} c
    JOIN {resident} r ON r.id = c.resident_id
    WHERE c.state IN {current}
      AND c.expires_on BETWEEN %(from)s AND %(until)s
      AND (r.nationality = 'JP' OR c.id = ANY(%(national_foreign)s::uuid[]))
      AND {not_notified}
      AND {no_pending}
""".format(
    current=_CURRENT,
    no_pending=_NO_PENDING_RENEWAL,
    not_notified=_not_notified("c.expires_on"),
    **_T,
)

# Certificates that end with their card are in the card's letter (R-CRT-5): only earlier
# expiries are certificate events, and a card's two certificates ending the same day are one
# event for the holder (GROUP BY), so one letter. The card is looked up per certificate by
# primary key (LATERAL … OFFSET 0): a plain join lets the planner hash every current card.
_CERTIFICATE_DUE = """
    SELECT c.id AS card_id, c.resident_id, r.office_id, x.expires_on, r.postal_code AS sort_key
    FROM {certificate} x
    CROSS JOIN LATERAL (
        SELECT k.id, k.resident_id FROM {card} k
        WHERE k.id = x.card_id AND k.state IN {current} AND x.expires_on < k.expires_on
        OFFSET 0
    ) c
    JOIN {resident} r ON r.id = c.resident_id
    WHERE x.state = '{active}'
      AND x.expires_on BETWEEN %(from)s AND %(until)s
      AND {not_notified}
      AND {no_pending}
    GROUP BY c.id, c.resident_id, r.office_id, x.expires_on, r.postal_code
""".format(
    active=CertificateState.ACTIVE.value,
    current=_CURRENT,
    no_pending=_NO_PENDING_RENEWAL,
    not_notified=_not_notified("x.expires_on"),
    **_T,
)

_STAY_DUE = """
    SELECT c.id AS card_id, c.resident_id, r.office_id, c.expires_on, r.postal_code AS sort_key
    FROM {card} c
    JOIN {resident} r ON r.id = c.resident_id
    WHERE c.id = ANY(%(card_ids)s::uuid[])
      AND c.state IN {current}
      AND {not_notified}
""".format(current=_CURRENT, not_notified=_not_notified("c.expires_on"), **_T)

# Arrived cards: read through notices_card_pending (state IN ordered/arrived), never all cards.
_PICKUP_DUE = """
    SELECT c.id AS card_id, c.resident_id, r.office_id, c.expires_on, r.postal_code AS sort_key
    FROM {card} c
    JOIN {resident} r ON r.id = c.resident_id
    WHERE c.state IN {pending} AND c.state = '{arrived}'
      AND c.arrived_on <= %(on)s
      AND (%(all_cards)s OR c.id = ANY(%(card_ids)s::uuid[]))
      AND NOT EXISTS (
        SELECT 1 FROM {notice} n WHERE n.card_id = c.id AND n.kind = %(kind)s OFFSET 0
      )
""".format(pending=_PENDING, arrived=CardState.ARRIVED.value, **_T)

# R-NOT-4: the city's letters to the holders J-LIS's list left out, named by (card, expiry).
_CITY_DUE = """
    SELECT c.id AS card_id, c.resident_id, r.office_id, t.expires_on, r.postal_code AS sort_key
    FROM unnest(%(card_ids)s::uuid[], %(expiries)s::date[]) AS t(card_id, expires_on)
    JOIN {card} c ON c.id = t.card_id
    JOIN {resident} r ON r.id = c.resident_id
    WHERE c.state IN {current}
      AND {not_notified}
""".format(current=_CURRENT, not_notified=_not_notified("t.expires_on"), **_T)

# The foreign residents' current cards in the window: few (a few per cent), so the R-NOT-3
# decision is made by the pure rules in Python rather than re-implemented in SQL.
_FOREIGN_DUE = """
    SELECT c.id, c.expires_on, c.issued_on, c.applied_on, r.birth_date
    FROM {card} c
    JOIN {resident} r ON r.id = c.resident_id
    WHERE c.state IN {current}
      AND c.expires_on BETWEEN %(from)s AND %(until)s
      AND r.nationality <> 'JP'
      AND {no_pending}
""".format(current=_CURRENT, no_pending=_NO_PENDING_RENEWAL, **_T)

# Numbering, batches and notices in one statement. Letters are numbered per office in postal
# code order (the order they are printed and sorted for the post) and cut into batches of
# %(batch_size)s. ``offsets`` continues the sequence when a day has several runs.
_INSERT = """
WITH due AS MATERIALIZED ({due}),
numbered AS (
    SELECT due.*,
           (row_number() OVER (PARTITION BY office_id ORDER BY sort_key, card_id, expires_on) - 1)
               / %(batch_size)s AS seq
    FROM due
),
offsets AS (
    SELECT office_id, max(sequence) + 1 AS first_seq
    FROM {batch}
    WHERE kind = %(kind)s AND run_on = %(on)s
    GROUP BY office_id
),
placed AS (
    SELECT n.*, n.seq + coalesce(o.first_seq, 0) AS sequence
    FROM numbered n LEFT JOIN offsets o ON o.office_id = n.office_id
),
batches AS (
    INSERT INTO {batch} (id, office_id, kind, run_on, sequence, notice_count, state,
                         render_state, rendered_count, render_error, pdf, csv, created_at)
    SELECT gen_random_uuid(), office_id, %(kind)s, %(on)s, sequence, count(*), 'generated',
           'pending', 0, '', '', '', now()
    FROM placed
    GROUP BY office_id, sequence
    RETURNING id, office_id, sequence
),
inserted AS (
    INSERT INTO {notice} (kind, resident_id, card_id, expires_on, created_on, created_at,
                          batch_id)
    SELECT %(kind)s, p.resident_id, p.card_id, p.expires_on, %(on)s, now(), b.id
    FROM placed p JOIN batches b ON b.office_id = p.office_id AND b.sequence = p.sequence
    ON CONFLICT DO NOTHING
    RETURNING batch_id
)
SELECT batch_id, count(*) FROM inserted GROUP BY batch_id
"""


@dataclass
class Created:
    """What one step (or a whole run) created: notices per kind and the batches holding them."""

    counts: dict[str, int]
    batch_ids: list[uuid.UUID]

    @classmethod
    def empty(cls) -> Created:
        return cls(counts={}, batch_ids=[])

    def add(self, other: Created) -> None:
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count
        self.batch_ids.extend(other.batch_ids)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def lock() -> None:
    """Queue behind any other notice run (released when the caller's transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [JOB_LOCK])


def _insert(
    *, kind: NoticeKind, on: date, due: str, params: dict[str, Any], batch_size: int
) -> Created:
    sql = _INSERT.format(due=due, **_T)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "kind": kind.value, "on": on, "batch_size": batch_size})
        per_batch: dict[uuid.UUID, int] = {row[0]: row[1] for row in cursor.fetchall()}
    _settle_batches(kind=kind, on=on, per_batch=per_batch)
    return Created(
        counts={kind.value: sum(per_batch.values())} if per_batch else {},
        batch_ids=sorted(per_batch),
    )


def _settle_batches(*, kind: NoticeKind, on: date, per_batch: dict[uuid.UUID, int]) -> None:
    """Make each new batch's count what was really inserted; drop batches left empty.

    Under the advisory lock nothing conflicts and this changes nothing. Without it (a caller
    that forgot the lock), ON CONFLICT can skip rows after the batch row was written; the
    counts must still be exact.
    """
    if per_batch:
        ids = list(per_batch)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_T['batch']} b SET notice_count = v.count"
                " FROM unnest(%s::uuid[], %s::integer[]) AS v(id, count)"
                " WHERE b.id = v.id AND b.notice_count <> v.count",
                [ids, [per_batch[batch_id] for batch_id in ids]],
            )
    # Batches of this statement that lost every row to a conflict have no notices at all.
    NoticeBatch.objects.filter(
        kind=kind.value,
        run_on=on,
        render_state=NoticeBatch.RenderState.PENDING,
        notices__isnull=True,
    ).exclude(pk__in=list(per_batch)).delete()


def classify_foreign(*, window: tuple[date, date]) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Split the foreign residents' due cards into (stay reminders, national notices), R-NOT-3."""
    stay: list[uuid.UUID] = []
    national: list[uuid.UUID] = []
    with connection.cursor() as cursor:
        cursor.execute(_FOREIGN_DUE, {"from": window[0], "until": window[1]})
        rows = cursor.fetchall()
    for card_id, expires_on, issued_on, applied_on, birth_date in rows:
        try:
            national_on: date | None = national_card_expiry(
                birth_date=birth_date, issued_on=issued_on, applied_on=applied_on
            )
        except ValueError:
            # Inconsistent dates on the card: the national notice is the safe default.
            national_on = None
        ends_with_stay = card_ends_with_period_of_stay(
            foreign=True, card_expires_on=expires_on, national_expires_on=national_on
        )
        (stay if ends_with_stay else national).append(card_id)
    return stay, national


def create_expiry_notices(*, on: date, window: tuple[date, date], batch_size: int) -> Created:
    """Card, certificate and stay-reminder notices due on ``on`` (R-NOT-1, R-NOT-2, R-NOT-3)."""
    stay_ids, national_foreign_ids = classify_foreign(window=window)
    span = {"from": window[0], "until": window[1]}
    created = Created.empty()
    created.add(
        _insert(
            kind=NoticeKind.CARD_EXPIRY,
            on=on,
            due=_CARD_DUE,
            params={**span, "national_foreign": national_foreign_ids},
            batch_size=batch_size,
        )
    )
    created.add(
        _insert(
            kind=NoticeKind.CERTIFICATE_EXPIRY,
            on=on,
            due=_CERTIFICATE_DUE,
            params=span,
            batch_size=batch_size,
        )
    )
    if stay_ids:
        created.add(
            _insert(
                kind=NoticeKind.STAY_REMINDER,
                on=on,
                due=_STAY_DUE,
                params={"card_ids": stay_ids},
                batch_size=batch_size,
            )
        )
    return created


def create_pickup_notices(
    *, on: date, card_ids: Sequence[uuid.UUID] | None, batch_size: int
) -> Created:
    """One pickup notice per arrived card (R-ISS-1); ``card_ids`` None means every such card."""
    return _insert(
        kind=NoticeKind.PICKUP,
        on=on,
        due=_PICKUP_DUE,
        params={
            "on": on,
            "all_cards": card_ids is None,
            "card_ids": list(card_ids or []),
        },
        batch_size=batch_size,
    )


def create_city_letters(
    *,
    kind: NoticeKind,
    on: date,
    events: Sequence[tuple[uuid.UUID, date]],
    batch_size: int,
) -> Created:
    """The city's letter for each (card, expiry) event, once (R-NOT-4, R-NOT-2's index)."""
    return _insert(
        kind=kind,
        on=on,
        due=_CITY_DUE,
        params={
            "card_ids": [card_id for card_id, _ in events],
            "expiries": [expires_on for _, expires_on in events],
        },
        batch_size=batch_size,
    )


def explain(*, on: date, window: tuple[date, date]) -> dict[str, str]:
    """EXPLAIN of the selections (used by the bench and a test that checks the index scans)."""
    plans: dict[str, str] = {}
    span = {"from": window[0], "until": window[1], "on": on}
    queries: list[tuple[str, str, dict[str, Any]]] = [
        ("card", _CARD_DUE, {"kind": NoticeKind.CARD_EXPIRY.value, "national_foreign": []}),
        ("certificate", _CERTIFICATE_DUE, {"kind": NoticeKind.CERTIFICATE_EXPIRY.value}),
        (
            "pickup",
            _PICKUP_DUE,
            {"kind": NoticeKind.PICKUP.value, "all_cards": True, "card_ids": []},
        ),
    ]
    for name, due, extra in queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + due, {**span, **extra})
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    return plans
