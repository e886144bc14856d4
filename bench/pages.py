"""Every counter page at big-city scale, through a production server, against the login page.

    .venv/bin/python bench/pages.py --cards 300000
    .venv/bin/python bench/pages.py --cards 3000000 --keep     # then --reuse to time again

What it does, in its own scratch database (``madoguchi_bench_pages``, dropped and created
fresh on the server the settings would use: DATABASE_URL's, or the embedded one):

1. migrates, then generates N cards with set-based SQL (no ORM for the big tables, history
   triggers off) in five offices: residents with **realistic names** (surnames at their
   national shares, 佐藤 1.5 %, 鈴木 1.4 % … then a long thin tail; given names spread the
   same way; about 3 % foreign residents with katakana readings; see ``bench/names.py``),
   birth dates over 95 years, cards in the usual mix of states with about 1 % arrived and
   waiting in every office over the last eight months (each with its application), about
   1 % renewals under way, the two e-certificates of each current card; staff of each role
   (20 clerks and 2 supervisors an office, 2 auditors, an admin) and the offices' counters;
   a year of expiry notices (N/5) in daily batches of up to 1,000 with 1 % returned
   undeliverable; a year of fee payments with today's at every counter, and the daily
   closes; an access log of N/1.5 rows over the past year, written as a valid hash chain
   (R-AUD-2; checked with ``apps.audit.chain.verify`` before timing). Then VACUUM ANALYZE, as
   autovacuum would have done by then;
2. serves the code as production does: ``collectstatic``, then gunicorn (2 sync workers,
   ``MADOGUCHI_ENV=production``, so DEBUG is off and the manifest static storage is on) on
   127.0.0.1, with bench-only keys, connected as the application's role ``madoguchi_app``
   (``db_roles`` after ``migrate``, as a deployment does); the bench plays the TLS proxy;
3. signs each persona in through the real login form (``sign_in``: the password, then the
   TOTP code of the authenticator the generator enrolled, ``totp_secret``), then times, one
   request at a time, each page a clerk, a supervisor, an auditor and the administrator open,
   40 times each, interleaved round by round so that noise falls on every page alike. The
   baseline is the login page, timed in the same rounds. Before timing, each page's first
   answer is checked (status and content), so an error page is never what gets timed;
4. prints per page p50 / p95 / max in ms and p95 as a multiple of the baseline's p95, the
   load average before and after, and as its last line
   ``cards=N pages=K slowest_page=… slowest_p95_ms=… baseline_p95_ms=… ratio=…``
   where K counts the pages timed besides the baseline. Exits 1 when a page answered wrongly
   or when the ratio is above ``--max-ratio`` (20).

The pages (searches are POSTs, as the screens send them; the My Number search is timed to its
redirect): search by a common surname (the ten most common, in turn), by one kana, by kana and
date of birth, by My Number; the resident page; the uncollected cards, first and last page;
the supervisor's home, the notice batches and the daily close (supervisor); the access log,
first and last page and filtered to one day (auditor), and the supervisor's own office's log;
the administrator's home.

``--keep`` leaves the scratch database for ``--reuse``, which migrates it (new migrations run
on the big data, which times them too) and times again without generating.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import math
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

import names  # noqa: E402  (bench/names.py, next to this file)
from cardgen import cards_sql  # noqa: E402

BENCH_DB = "madoguchi_bench_pages"
OFFICES = ("本庁", "北支所", "南支所", "東支所", "西支所")
COUNTERS_PER_OFFICE = 5
CLERKS_PER_OFFICE = 20
SUPERVISORS_PER_OFFICE = 2
AUDITORS = 2
BATCH_SIZE = 1000
# Bench-only secrets: the data is fictional and the database is dropped afterwards. Fixed, so
# that a kept database (--keep, --reuse) still matches the blind index it was built with.
PASSWORD = "bench-pages-password-2026"  # noqa: S105
TOWNS = (
    "旭町", "本町", "栄町", "緑が丘", "中央", "東町", "西町", "南町", "北町", "若葉台",
    "桜木町", "松原", "宮前", "青葉", "花園", "富士見", "白鳥", "錦岡", "美園", "清水",
)  # fmt: skip
COMMON_SURNAMES = tuple(kana for _, kana, _ in names.TOP_SURNAMES[:10])
SINGLE_KANA = ("サ", "タ", "カ", "イ", "ハ", "ア", "オ", "ヤ", "マ", "ス")


def _bench_key(purpose: str) -> str:
    digest = hashlib.sha256(f"madoguchi-bench-pages:{purpose}".encode()).digest()
    return base64.b64encode(digest).decode()


def _scratch_database_url() -> tuple[str, dict[str, Any]]:
    """The scratch database's URL and the admin connection to create it with."""
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
        return urlunsplit(parts._replace(path="/" + BENCH_DB)), {"conninfo": admin}
    from config import devdb

    host = devdb.ensure_running(database="postgres")
    return f"postgres://postgres@/{BENCH_DB}?host={host}", {"host": host, "user": "postgres"}


def _admin(admin: dict[str, Any], *statements: Any) -> list[Any]:
    import psycopg

    conninfo = admin.get("conninfo", "")
    params = {k: v for k, v in admin.items() if k != "conninfo"}
    with psycopg.connect(conninfo, dbname="postgres", autocommit=True, **params) as conn:
        return [conn.execute(statement).fetchall() for statement in statements]


def _database_exists(admin: dict[str, Any]) -> bool:
    from psycopg import sql

    query = sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(sql.Literal(BENCH_DB))
    (rows,) = _admin(admin, query)
    return bool(rows)


def _recreate(admin: dict[str, Any], *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    conninfo = admin.get("conninfo", "")
    params = {k: v for k, v in admin.items() if k != "conninfo"}
    with psycopg.connect(conninfo, dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def production_environment(database_url: str) -> dict[str, str]:
    """What the server (and this process, for the data) runs with: production settings."""
    return {
        "MADOGUCHI_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": _bench_key("secret-key"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MY_NUMBER_KEYS": "bench1:" + _bench_key("my-number-key"),
        "MY_NUMBER_ACTIVE_KEY_ID": "bench1",
        "MY_NUMBER_INDEX_KEY": _bench_key("my-number-index-key"),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        # Production answers plain HTTP with a redirect to HTTPS. The bench plays the TLS
        # proxy in front of gunicorn: it sends X-Forwarded-Proto (``Session``), which the
        # server trusts only with this set.
        "BEHIND_TLS_PROXY": "true",
    }


# --- the data ---------------------------------------------------------------------------------

NAME_TABLES = """
CREATE TEMP TABLE bench_name (
    list text, n int, kanji text, kana text, nationality text, PRIMARY KEY (list, n));
CREATE TEMP TABLE bench_slot (list text, slot int, n int, PRIMARY KEY (list, slot));
"""

# Residents, cards, certificates: bench/notices.py's state mix and expiries over ten years,
# with realistic names, birth dates and addresses; the cards and certificates come from
# bench/cardgen.py, shared with it.
GENERATE = """
SET session_replication_role = replica;  -- no history triggers, no FK checks: data is consistent
SET work_mem = '256MB';

CREATE TEMP TABLE gen AS
WITH offices AS (SELECT array_agg(id ORDER BY code) AS ids FROM accounts_office),
base AS (
    SELECT g AS i,
           gen_random_uuid() AS resident_id,
           gen_random_uuid() AS card_id,
           CASE WHEN (g * 7) %% 100 = 0 THEN 'suspended'
                WHEN (g * 7) %% 100 = 1 THEN 'arrived'
                WHEN (g * 7) %% 100 IN (2, 3) THEN 'returned'
                WHEN (g * 7) %% 100 IN (4, 5) THEN 'void'
                ELSE 'active' END AS state,
           CASE WHEN g %% 100 < 3 THEN
                CASE WHEN g %% 3 = 0 THEN 'permanent' ELSE 'mid_long_term' END
                ELSE '' END AS category,
           -- From a hash, not from g: states and categories are taken from g's residues.
           1 + ((hashint8extended(g, 3) & 9223372036854775807) %% {offices})::int AS office_no,
           CASE WHEN hashint8extended(g, 7) & 1 = 0 THEN '1' ELSE '2' END AS sex,
           hashint8extended(g, 11) & 9223372036854775807 AS h_family,
           hashint8extended(g, 13) & 9223372036854775807 AS h_given,
           hashint8extended(g, 17) & 9223372036854775807 AS h_other
    FROM generate_series(1::bigint, %(residents)s::bigint) g
),
dated AS (
    SELECT base.*,
           -- Waiting cards arrived over the last 8 months (three days after they were made).
           CASE WHEN state = 'arrived' THEN %(on)s::date + 3650 - 3 - (h_other %% 240)::int
                WHEN category = 'mid_long_term' THEN %(on)s::date + 1 + ((i * 7919) %% 1095)::int
                ELSE %(on)s::date + 1 + ((i * 7919) %% 3652)::int END AS expires_on
    FROM base
),
issued AS (
    SELECT dated.*,
           CASE WHEN category = 'mid_long_term' THEN (expires_on - interval '3 years')::date
                WHEN state = 'arrived' THEN (expires_on - interval '10 years')::date
                ELSE (expires_on - interval '10 years')::date + (i %% 200)::int END AS issued_on
    FROM dated
)
SELECT issued.*,
       (SELECT ids FROM offices)[office_no] AS office_id,
       -- Born between 1930 and a year before the card was issued.
       LEAST(DATE '1930-01-01' + (h_other %% 34000)::int, issued_on - 400) AS birth_date,
       fam.kanji AS family_name, fam.kana AS family_kana,
       giv.kanji AS given_name, giv.kana AS given_kana,
       COALESCE(fam.nationality, 'JP') AS nationality
FROM issued
JOIN bench_slot fs ON fs.list = CASE WHEN category = '' THEN 'surname' ELSE 'foreign_family' END
                  AND fs.slot = 1 + (h_family %% CASE WHEN category = ''
                                                      THEN %(slots_surname)s
                                                      ELSE %(slots_foreign_family)s END)
JOIN bench_name fam ON fam.list = fs.list AND fam.n = fs.n
JOIN bench_slot gs ON gs.list = CASE WHEN category <> '' THEN 'foreign_given'
                                     WHEN sex = '1' THEN 'male' ELSE 'female' END
                  AND gs.slot = 1 + (h_given %% CASE WHEN category <> ''
                                                     THEN %(slots_foreign_given)s
                                                     WHEN sex = '1' THEN %(slots_male)s
                                                     ELSE %(slots_female)s END)
JOIN bench_name giv ON giv.list = gs.list AND giv.n = gs.n;
CREATE UNIQUE INDEX ON gen (i);
ANALYZE gen;

INSERT INTO residents_resident (
    id, office_id, resident_code, family_name, given_name, family_name_kana, given_name_kana,
    former_surname, former_surname_kana, search_kana, birth_date, sex, postal_code, address,
    address_flagged_on, nationality, residence_category, period_of_stay_ends_on,
    residence_event_on, adult_ward, legal_representative_id, legal_representative_name,
    my_number_ciphertext, my_number_index, my_number_last4, left_reason, created_at,
    updated_at, household_code)
SELECT resident_id, office_id, lpad(i::text, 11, '0'), family_name, given_name, family_kana,
       given_kana, '', '', family_kana || given_kana, birth_date, sex,
       lpad((h_other %% 1000)::text, 3, '0') || '-' || lpad((h_other %% 9973)::text, 4, '0'),
       'みどり市' || (%(towns)s::text[])[1 + (h_other %% {towns})::int]
           || (1 + h_other %% 5) || '丁目' || (1 + h_other %% 30) || '番'
           || (1 + h_other %% 20) || '号',
       NULL, nationality, category,
       CASE category WHEN 'mid_long_term' THEN expires_on END, NULL, false, NULL, '',
       decode(md5('c' || i), 'hex'), md5('i' || i) || md5('j' || i),
       lpad((i %% 10000)::text, 4, '0'), '', now(), now(),
       'H' || lpad((i / 3)::text, 9, '0')  -- households of three
FROM gen;

{cards}
"""

# A year of notices in daily batches per office (the job's shape: at most BATCH_SIZE a batch),
# 1 % of them returned undeliverable. Only what the batch list and its counts read.
NOTICES = """
CREATE TEMP TABLE nsel AS
SELECT g.i, g.resident_id, g.card_id, g.office_id, g.office_no, g.expires_on,
       %(on)s::date - 1 - (g.h_other %% 365)::int AS run_on
FROM gen g WHERE g.i %% 5 = 0 AND g.state IN ('active', 'suspended');
CREATE TEMP TABLE nseq AS
SELECT nsel.*,
       ((row_number() OVER (PARTITION BY office_id, run_on ORDER BY i)) - 1) / {batch} AS seq
FROM nsel;
CREATE TEMP TABLE nbatch AS
SELECT gen_random_uuid() AS id, office_id, office_no, run_on, seq, count(*) AS n
FROM nseq GROUP BY office_id, office_no, run_on, seq;

INSERT INTO notices_noticebatch (
    id, office_id, kind, run_on, sequence, notice_count, state, render_state, rendered_count,
    render_started_at, render_error, pdf, csv, created_at, printed_at, printed_by_id,
    posted_at, posted_by_id)
SELECT b.id, b.office_id, 'card_expiry', b.run_on, b.seq, b.n,
       CASE WHEN b.run_on < %(on)s::date - 7 THEN 'posted' ELSE 'generated' END, 'done', b.n,
       b.run_on + time '05:31', '', '', '', b.run_on + time '05:30',
       CASE WHEN b.run_on < %(on)s::date - 7 THEN b.run_on + time '10:00' END,
       CASE WHEN b.run_on < %(on)s::date - 7 THEN s.user_id END,
       CASE WHEN b.run_on < %(on)s::date - 7 THEN b.run_on + time '15:00' END,
       CASE WHEN b.run_on < %(on)s::date - 7 THEN s.user_id END
FROM nbatch b JOIN bench_staff s ON s.office_no = b.office_no AND s.role = 'supervisor'
                               AND s.k = 0;

INSERT INTO notices_notice (
    kind, resident_id, card_id, expires_on, created_on, created_at, batch_id, returned_on,
    returned_by_id)
SELECT 'card_expiry', q.resident_id, q.card_id, q.expires_on, q.run_on, q.run_on + time '05:30',
       b.id, CASE WHEN q.i %% 100 = 0 THEN q.run_on + 10 END,
       CASE WHEN q.i %% 100 = 0 THEN s.user_id END
FROM nseq q
JOIN nbatch b ON b.office_id = q.office_id AND b.run_on = q.run_on AND b.seq = q.seq
JOIN bench_staff s ON s.office_no = q.office_no AND s.role = 'clerk'
                  AND s.k = (q.i %% {clerks})::int
ORDER BY q.run_on, b.id, q.i;
DROP TABLE nsel, nseq, nbatch;
"""

# The access log: N / 1.5 rows over the past year, in time order (ids grow with time, as the
# application writes them). What the counter writes: views, searches, reveals, reads. Made in a
# temp table first: the rows are then chained (``_chain_access_log``) as the trigger would.
ACCESS_LOG = """
CREATE TEMP TABLE bench_log AS
SELECT j AS id,
       %(now)s::timestamptz - interval '365 days'
           + (j::double precision / %(rows)s) * interval '365 days' AS at,
       s.user_id AS actor_id, g.office_id,
       CASE WHEN a.action IN ('search') THEN NULL ELSE g.resident_id END AS resident_id,
       a.action,
       CASE WHEN a.action IN ('reveal_my_number', 'search_my_number') THEN 'identity_check'
            ELSE '' END AS purpose,
       'ok'::text AS outcome,
       CASE a.action WHEN 'search' THEN jsonb_build_object(
                         'fields', jsonb_build_array('kana'), 'matched', j %% 40)
                     WHEN 'search_my_number' THEN '{{"matched": 1}}'::jsonb
                     ELSE '{{}}'::jsonb END AS detail,
       ('10.1.' || g.office_no || '.' || (1 + j %% 200))::inet AS ip_address
FROM generate_series(1::bigint, %(rows)s::bigint) j
JOIN gen g ON g.i = 1 + (hashint8extended(j, 23) & 9223372036854775807) %% %(residents)s
JOIN bench_staff s ON s.office_no = g.office_no AND s.role = 'clerk'
                  AND s.k = (j %% {clerks})::int
CROSS JOIN LATERAL (SELECT CASE WHEN j %% 100 < 55 THEN 'view_resident'
                                WHEN j %% 100 < 85 THEN 'search'
                                WHEN j %% 100 < 90 THEN 'search_my_number'
                                WHEN j %% 100 < 93 THEN 'reveal_my_number'
                                WHEN j %% 100 < 99 THEN 'card_read'
                                ELSE 'export' END AS action) a;
ALTER TABLE bench_log ADD PRIMARY KEY (id);
"""

# Each value as the chain trigger renders it (apps/audit/chain.py's _ROWS), then the columns
# as stored. counter_id and device_id stay NULL: the generated looks name no reader.
ACCESS_LOG_BATCH = """
SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       coalesce(actor_id::text, ''), coalesce(office_id::text, ''), '', '',
       coalesce(resident_id::text, ''), action, purpose, outcome, detail::text,
       coalesce(host(ip_address), ''),
       at::text, actor_id::text, office_id::text, resident_id::text, ip_address::text
FROM bench_log WHERE id BETWEEN %s AND %s ORDER BY id
"""
ACCESS_LOG_COLUMNS = (
    "id, seq, at, actor_id, office_id, resident_id, action, purpose, outcome, detail, "
    "ip_address, prev_hash, hash"
)


def _chain_access_log(cursor: Any, rows: int, *, batch: int = 50_000) -> None:
    """Copy the generated log into audit_accesslog as a valid hash chain (R-AUD-2).

    The chain trigger (audit migration 0004) numbers and hashes one row at a time under an
    advisory lock; at millions of rows that is hours, so the bench writes ``seq``,
    ``prev_hash`` and ``hash`` itself (triggers are off in this session), with the verifier's
    own function (``apps.audit.chain.row_hash``) over the values as the trigger renders them.
    ``audit_verify`` then holds on the result, and the server's own rows chain on after it.
    """
    from apps.audit.chain import row_hash
    from apps.audit.models import GENESIS_HASH

    prev = GENESIS_HASH
    for first in range(1, rows + 1, batch):
        cursor.execute(ACCESS_LOG_BATCH, [first, first + batch - 1])
        chunk = cursor.fetchall()
        with cursor.copy(f"COPY audit_accesslog ({ACCESS_LOG_COLUMNS}) FROM STDIN") as copy:
            for row_id, *fields, at, actor, office, resident, ip in chunk:
                # seq = id: one row per id, from 1, in time order.
                hashed = row_hash((str(row_id), str(row_id), *fields, prev))
                action, purpose, outcome, detail = fields[6:10]
                copy.write_row(
                    (row_id, row_id, at, actor, office, resident, action, purpose, outcome,
                     detail, ip, prev, hashed)
                )  # fmt: skip
                prev = hashed
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('audit_accesslog', 'id'), "
        "(SELECT max(id) FROM audit_accesslog))"
    )
    cursor.execute("DROP TABLE bench_log")


def _load_names(cursor: Any) -> dict[str, int]:
    """The name lists as temp tables, each name repeated in slots by its weight."""
    cursor.execute(NAME_TABLES)
    lists = {
        "surname": (list(names.surnames()), 1_000_000),
        "male": (list(names.given_names(female=False)), 100_000),
        "female": (list(names.given_names(female=True)), 100_000),
        "foreign_family": (list(names.foreign_names(given=False)), 10_000),
        "foreign_given": (list(names.foreign_names(given=True)), 10_000),
    }
    slots: dict[str, int] = {}
    for list_name, (rows, scale) in lists.items():
        total = sum(row.weight for row in rows)
        name_rows, slot_rows = [], []
        for n, row in enumerate(rows, start=1):
            nationality = names.FOREIGN_NATIONALITY.get(row.kanji)
            name_rows.append((list_name, n, row.kanji, row.kana, nationality))
            for _ in range(max(1, round(row.weight / total * scale))):
                slot_rows.append((list_name, len(slot_rows) + 1, n))
        with cursor.copy("COPY bench_name FROM STDIN") as copy:
            for record in name_rows:
                copy.write_row(record)
        with cursor.copy("COPY bench_slot FROM STDIN") as copy:
            for record in slot_rows:
                copy.write_row(record)
        slots[f"slots_{list_name}"] = len(slot_rows)
    return slots


def _staff(on: date) -> None:
    """Offices, counters and staff through the ORM (small tables), one password hash for all."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from apps.accounts.mfa import totp_enrol
    from apps.accounts.models import Counter, Office, User
    from apps.accounts.roles import Role

    password = make_password(PASSWORD)
    offices = Office.objects.bulk_create(
        Office(code=f"o{n}", name=name, kind=Office.Kind.MAIN if n == 1 else Office.Kind.BRANCH)
        for n, name in enumerate(OFFICES, start=1)
    )
    counters = {
        office.code: Counter.objects.bulk_create(
            Counter(office=office, code=str(c), name=f"{c}番窓口")
            for c in range(1, COUNTERS_PER_OFFICE + 1)
        )
        for office in offices
    }
    users = []
    for n, office in enumerate(offices, start=1):
        for k in range(CLERKS_PER_OFFICE):
            users.append(
                User(
                    username=f"clerk_{n}_{k:02d}",
                    password=password,
                    role=Role.CLERK,
                    office=office,
                    counter=counters[office.code][k % COUNTERS_PER_OFFICE],
                    last_name="窓口",
                    first_name=f"{n}-{k:02d}",
                )
            )
        for k in range(SUPERVISORS_PER_OFFICE):
            users.append(
                User(
                    username=f"supervisor_{n}_{k}",
                    password=password,
                    role=Role.SUPERVISOR,
                    office=office,
                    counter=counters[office.code][0],
                    last_name="監督",
                    first_name=f"{n}-{k}",
                )
            )
    users += [
        User(username=f"auditor_{k}", password=password, role=Role.AUDITOR, last_name="監査")
        for k in range(AUDITORS)
    ]
    users.append(
        User(
            username="admin",
            password=password,
            role=Role.ADMIN,
            is_staff=True,
            is_superuser=True,
        )
    )
    User.objects.bulk_create(users)
    # Sign-in asks every member of staff for a second factor: each gets a TOTP authenticator
    # with a secret the bench can recompute (``totp_secret``), as an enrolled phone would hold.
    for user in User.objects.all():
        totp_enrol(user, secret=totp_secret(user.username))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_staff AS "
            "SELECT substring(o.code from 2)::int AS office_no, u.role, "
            "       (row_number() OVER (PARTITION BY o.id, u.role ORDER BY u.username) - 1)::int "
            "       AS k, u.id AS user_id, u.counter_id "
            "FROM accounts_user u JOIN accounts_office o ON o.id = u.office_id"
        )


def _applications_and_payments(on: date, cards: int) -> None:
    """Applications of the waiting cards, a year of payments, the closes: through the ORM
    (bulk_create, triggers off), so that the fields' defaults stay the models' own."""
    from datetime import datetime
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    from django.db import connection

    from apps.applications.models import Application
    from apps.applications.rules import ApplicantType, ApplicationKind, ApplicationState
    from apps.fees.models import DailyClose, FeeSchedule, Payment, PaymentMethod
    from apps.fees.rules import FeeRow

    tokyo = ZoneInfo("Asia/Tokyo")
    schedule = FeeSchedule.objects.order_by("starts_on").first()
    assert schedule is not None, "the fee schedule migration did not run"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.resident_id, g.office_id, g.card_id, g.issued_on, s.user_id, s.counter_id "
            "FROM gen g JOIN bench_staff s ON s.office_no = g.office_no AND s.role = 'clerk' "
            f"AND s.k = (g.i % {CLERKS_PER_OFFICE})::int WHERE g.state = 'arrived'"
        )
        waiting = cursor.fetchall()
    free = FeeRow.FIRST_ISSUE_FREE
    Application.objects.bulk_create(
        (
            Application(
                kind=ApplicationKind.FIRST_ISSUE,
                state=ApplicationState.ARRIVED,
                resident_id=resident_id,
                office_id=office_id,
                counter_id=counter_id,
                applicant_type=ApplicantType.HOLDER,
                documents=["drivers_license"],
                received_on=issued_on - timedelta(days=30),
                received_at=datetime.combine(issued_on - timedelta(days=30), clock(10), tokyo),
                received_by_id=user_id,
                fee_row=free,
                fee_amount_yen=0,
                fee_schedule=schedule,
                new_card_id=card_id,
                ordered_at=datetime.combine(issued_on - timedelta(days=29), clock(9), tokyo),
                arrived_at=datetime.combine(issued_on + timedelta(days=1), clock(9), tokyo),
            )
            for resident_id, office_id, card_id, issued_on, user_id, counter_id in waiting
        ),
        batch_size=5000,
    )
    # Payments: reissues and the like, about N / 200 a year, and 20 today at every counter.
    history = max(cards // 200, 100)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.resident_id, g.office_id, s.user_id, s.counter_id, "
            "       CASE WHEN j <= %(history)s THEN %(on)s::date - 1 - (j %% 365)::int "
            "            ELSE %(on)s::date END "
            "FROM generate_series(1, %(total)s) j "
            "JOIN gen g ON g.i = 1 + (hashint8extended(j, 29) & 9223372036854775807) "
            "              %% %(residents)s "
            "JOIN bench_staff s ON s.office_no = g.office_no AND s.role = 'clerk' "
            "                  AND s.k = CASE WHEN j <= %(history)s THEN (j %% 20)::int "
            "                                 ELSE ((j - %(history)s) %% 5)::int END "
            "ORDER BY 5, j",
            {
                "history": history,
                "on": on,
                "total": history + 20 * COUNTERS_PER_OFFICE * len(OFFICES),
                "residents": _residents(cards),
            },
        )
        rows = cursor.fetchall()
    numbers: dict[tuple[Any, int], int] = {}
    payments = []
    row = FeeRow.REISSUE_LOSS_WITH_CERTS
    for n, (resident_id, office_id, user_id, counter_id, day) in enumerate(rows):
        fiscal_year = day.year if day.month >= 4 else day.year - 1
        numbers[office_id, fiscal_year] = numbers.get((office_id, fiscal_year), 0) + 1
        payments.append(
            Payment(
                office_id=office_id,
                counter_id=counter_id,
                fiscal_year=fiscal_year,
                receipt_number=numbers[office_id, fiscal_year],
                resident_id=resident_id,
                fee_row=row,
                schedule=schedule,
                amount_yen=1000,
                method=PaymentMethod.CASH if n % 10 else PaymentMethod.CASHLESS,
                business_date=day,
                received_by_id=user_id,
                received_at=datetime.combine(day, clock(9 + n % 8, n % 60), tokyo),
            )
        )
    Payment.objects.bulk_create(payments, batch_size=5000)
    # Every counter closed every past day it took money.
    totals: dict[tuple[Any, Any, date], list[int]] = {}
    for payment in payments:
        if payment.business_date < on:
            key = (payment.office_id, payment.counter_id, payment.business_date)
            cash, cashless, count = totals.get(key, [0, 0, 0])
            if payment.method == PaymentMethod.CASH:
                cash += payment.amount_yen
            else:
                cashless += payment.amount_yen
            totals[key] = [cash, cashless, count + 1]
    closer = {payment.counter_id: payment.received_by_id for payment in payments}
    DailyClose.objects.bulk_create(
        (
            DailyClose(
                office_id=office_id,
                counter_id=counter_id,
                business_date=day,
                expected_cash_yen=cash,
                counted_cash_yen=cash,
                cashless_total_yen=cashless,
                payments_count=count,
                voided_count=0,
                closed_by_id=closer[counter_id],
                closed_at=datetime.combine(day, clock(17, 30), tokyo),
            )
            for (office_id, counter_id, day), (cash, cashless, count) in totals.items()
        ),
        batch_size=5000,
    )


def _residents(cards: int) -> int:
    return cards - cards // 100


def generate(cards: int, on: date) -> None:
    from django.db import connection
    from django.utils import timezone

    renewals = cards // 100
    residents = _residents(cards)
    log_rows = int(cards / 1.5)
    started = [time.perf_counter()]

    def step(label: str) -> None:
        now = time.perf_counter()
        print(f"  {label}: {now - started[0]:.1f} s", flush=True)
        started[0] = now

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        _staff(on)
        slots = _load_names(cursor)
        cursor.execute(
            GENERATE.format(
                offices=len(OFFICES),
                towns=len(TOWNS),
                cards=cards_sql(arrived="%(on)s::date - (h_other %% 240)::int"),
            ),
            {"on": on, "residents": residents, "renewals": renewals, "towns": list(TOWNS), **slots},
        )
        step("residents, cards, certificates")
        _applications_and_payments(on, cards)
        step("applications, payments, closes")
        cursor.execute(NOTICES.format(batch=BATCH_SIZE, clerks=CLERKS_PER_OFFICE), {"on": on})
        step("notices and batches")
        cursor.execute(
            ACCESS_LOG.format(clerks=CLERKS_PER_OFFICE),
            {"now": timezone.now(), "rows": log_rows, "residents": residents},
        )
        _chain_access_log(cursor, log_rows)
        step("access log")
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("DROP TABLE gen, bench_name, bench_slot, bench_staff")
    # Outside a transaction: VACUUM sets the visibility map (index-only scans) and statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    step("VACUUM ANALYZE")


# --- the server -------------------------------------------------------------------------------


def _run(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


class Server:
    """gunicorn as production runs it: sync workers, DEBUG off, its own log file."""

    def __init__(self, env: dict[str, str], *, port: int, workers: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log.open("wb")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(  # noqa: S603 - our own server
            [
                str(gunicorn),
                "config.wsgi:application",
                f"--workers={workers}",
                f"--bind=127.0.0.1:{port}",
                "--timeout=120",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, client: Any, timeout_s: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            try:
                if client.get(self.base + "/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout_s:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Session:
    """One browser: its cookies kept by hand, so that production's Secure cookies (and any
    ``__Host-`` prefix) travel over the bench's plain-HTTP loopback as they would over TLS."""

    def __init__(self, client: Any, base: str) -> None:
        self.client = client
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        headers = {"X-Forwarded-Proto": "https"}  # as the TLS proxy in front would send
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            origin = "https://" + urlsplit(self.base).netloc
            headers["Origin"] = origin
            headers["Referer"] = origin + path
        response = self.client.request(method, self.base + path, data=data, headers=headers)
        self.client.cookies.clear()
        for raw in response.headers.get_list("set-cookie"):
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in raw.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def csrf_token(self) -> str:
        # Django accepts the unmasked secret from the cookie as the form's token.
        name = next((n for n in self.cookies if n.endswith("csrftoken")), None)
        if name is None:
            raise RuntimeError("no CSRF cookie: the login page did not set one")
        return self.cookies[name]


def sign_in(session: Session, username: str) -> None:
    """The real login form: GET the page (CSRF cookie), POST the credentials, then whatever
    second step sign-in asks for. Ends signed in, or raises."""
    session.request("GET", "/accounts/login/")
    response = session.request(
        "POST",
        "/accounts/login/",
        {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": session.csrf_token()},
    )
    response = second_factor(session, response, username)
    if response.status_code != 302 or "/accounts/" in response.headers.get("location", ""):
        raise RuntimeError(f"sign-in of {username} failed: {response.status_code}")


def second_factor(session: Session, response: Any, username: str) -> Any:
    """When the password step sends the browser to a second-factor form (django-allauth MFA:
    ``/accounts/2fa/…``), answer it with the user's current TOTP code."""
    location = response.headers.get("location", "")
    if response.status_code != 302 or "/2fa/" not in location:
        return response
    path = urlsplit(location).path
    session.request("GET", path)
    return session.request(
        "POST", path, {"code": totp_code(username), "csrfmiddlewaretoken": session.csrf_token()}
    )


def totp_code(username: str) -> str:
    """The code the user's authenticator shows now (RFC 6238, as allauth checks it)."""
    from apps.accounts.mfa import totp_code as current_code

    return current_code(totp_secret(username))


def totp_secret(username: str) -> str:
    """The bench user's TOTP secret (base32), fixed per name so a kept database still matches."""
    digest = hashlib.sha256(f"madoguchi-bench-pages:totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


# --- the pages --------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    persona: str
    method: str
    # i → (path, form data): each timed request may ask for something else (a different name).
    request: Callable[[int], tuple[str, dict[str, str] | None]]
    check: Callable[[Any], str | None]  # None when the answer is right, else what is wrong
    times_ms: list[float] = field(default_factory=list)


def _expect(status: int, *needles: str) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        if response.status_code != status:
            return f"status {response.status_code}, expected {status}"
        body = response.text
        missing = [needle for needle in needles if needle not in body]
        return f"missing {missing}" if missing else None

    return check


def _redirects_to(prefix: str) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        location = response.headers.get("location", "")
        if response.status_code != 302 or not location.startswith(prefix):
            return f"status {response.status_code} to {location!r}, expected a redirect"
        return None

    return check


@dataclass(frozen=True)
class Targets:
    residents: list[tuple[str, str, date, str]]  # id, family kana, birth date, resident code
    numbers: list[tuple[str, str]]  # resident id, My Number
    log_days: list[date]
    clerk: str
    supervisor: str
    auditor: str
    admin: str


def _targets(on: date) -> Targets:
    """Who the clerk looks up: residents of the first office, and 40 with a real My Number."""
    from django.db import connection

    from apps.residents.crypto import encrypt_my_number, my_number_index
    from apps.residents.rules import my_number_check_digit

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id::text, r.family_name_kana, r.birth_date, r.resident_code "
            "FROM residents_resident r JOIN accounts_office o ON o.id = r.office_id "
            "WHERE o.code = 'o1' AND r.nationality = 'JP' "
            "ORDER BY r.resident_code LIMIT 80"
        )
        rows = cursor.fetchall()
        residents = [(str(a), b, c, d) for a, b, c, d in rows[:40]]
        numbers = []
        for resident_id, _, _, code in rows[40:80]:
            first11 = "9" + code[1:]
            number = first11 + str(my_number_check_digit(first11))
            numbers.append((resident_id, number))
            cursor.execute(
                "UPDATE residents_resident SET my_number_index = %s, my_number_ciphertext = %s, "
                "my_number_last4 = %s WHERE id = %s",
                [
                    my_number_index(number),
                    encrypt_my_number(number, resident_id=uuid.UUID(resident_id)),
                    number[-4:],
                    resident_id,
                ],
            )
    days = [on - timedelta(days=30 + 7 * n) for n in range(40)]
    return Targets(
        residents=residents,
        numbers=numbers,
        log_days=days,
        clerk="clerk_1_00",
        supervisor="supervisor_1_0",
        auditor="auditor_0",
        admin="admin",
    )


def pages(targets: Targets, csrf: Callable[[str], str]) -> list[Page]:
    def search(kana: str, birth_date: str = "") -> dict[str, str]:
        return {"csrfmiddlewaretoken": csrf("clerk"), "k-kana": kana, "k-birth_date": birth_date}

    residents, numbers, days = targets.residents, targets.numbers, targets.log_days
    first = residents[0]
    return [
        Page("login_page", "anonymous", "GET", lambda i: ("/accounts/login/", None),
             _expect(200, 'name="login"')),
        Page("search_common_surname", "clerk", "POST",
             lambda i: ("/residents/", search(COMMON_SURNAMES[i % len(COMMON_SURNAMES)])),
             _expect(200, "検索結果", names.TOP_SURNAMES[0][0])),
        Page("search_one_kana", "clerk", "POST",
             lambda i: ("/residents/", search(SINGLE_KANA[i % len(SINGLE_KANA)])),
             _expect(200, "検索結果")),
        Page("search_kana_birth_date", "clerk", "POST",
             lambda i: ("/residents/", search(residents[i % 40][1],
                                              residents[i % 40][2].isoformat())),
             _expect(200, "検索結果", first[3])),
        Page("search_my_number", "clerk", "POST",
             lambda i: ("/residents/", {"csrfmiddlewaretoken": csrf("clerk"),
                                        "n-my_number": numbers[i % 40][1],
                                        "n-purpose": "identity_check"}),
             _redirects_to(f"/residents/{numbers[0][0]}/")),
        Page("resident_page", "clerk", "GET",
             lambda i: (f"/residents/{residents[i % 40][0]}/", None),
             _expect(200, first[3])),
        Page("uncollected_first", "clerk", "GET", lambda i: ("/applications/uncollected/", None),
             _expect(200, "data-days=")),
        Page("uncollected_last", "clerk", "GET",
             lambda i: ("/applications/uncollected/?page=last", None), _expect(200, "data-days=")),
        Page("supervisor_home", "supervisor", "GET", lambda i: ("/reports/", None),
             _expect(200, "監督者のホーム", "未交付カード")),
        Page("admin_home", "admin", "GET", lambda i: ("/home/admin/", None),
             _expect(200, "システム管理", "読取端末")),
        Page("notice_batches", "supervisor", "GET", lambda i: ("/notices/batches/", None),
             _expect(200, "通知書の束", "発送済")),
        Page("daily_close", "supervisor", "GET", lambda i: ("/fees/close/", None),
             _expect(200, "日計", "data-expected-cash")),
        Page("access_log_first", "auditor", "GET", lambda i: ("/audit/", None),
             _expect(200, "アクセス記録", "住民情報の閲覧")),
        Page("access_log_last", "auditor", "GET", lambda i: ("/audit/?page=last", None),
             _expect(200, "アクセス記録", "住民情報の閲覧")),
        Page("access_log_one_day", "auditor", "GET",
             lambda i: (f"/audit/?date_from={days[i % 40]}&date_to={days[i % 40]}", None),
             _expect(200, "アクセス記録", "住民情報の閲覧")),
        Page("access_log_office", "supervisor", "GET", lambda i: ("/audit/", None),
             _expect(200, "アクセス記録", "住民情報の閲覧")),
    ]  # fmt: skip


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def measure(base: str, targets: Targets, *, repeat: int, warmup: int) -> tuple[list[Page], bool]:
    import httpx

    client = httpx.Client(timeout=120.0, follow_redirects=False)
    sessions = {
        name: Session(client, base)
        for name in ("anonymous", "clerk", "supervisor", "auditor", "admin")
    }
    for persona in ("clerk", "supervisor", "auditor", "admin"):
        sign_in(sessions[persona], getattr(targets, persona))
    timed = pages(targets, lambda persona: sessions[persona].csrf_token())
    ok = True
    for page in timed:
        path, data = page.request(0)
        problem = page.check(sessions[page.persona].request(page.method, path, data))
        if problem:
            print(f"!! {page.name}: {problem}", flush=True)
            ok = False
    if not ok:
        return timed, False
    # Warm both workers' caches (templates, the first query of each kind), then time.
    for round_no in range(-warmup, repeat):
        for page in timed:
            path, data = page.request(max(round_no, 0))
            session = sessions[page.persona]
            started = time.perf_counter()
            response = session.request(page.method, path, data)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code >= 400:
                print(f"!! {page.name} answered {response.status_code}", flush=True)
                ok = False
            if round_no >= 0:
                page.times_ms.append(elapsed)
    client.close()
    return timed, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000, help="cards to generate (N)")
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=4, help="untimed rounds first")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--max-ratio", type=float, default=20.0)
    parser.add_argument(
        "--jit",
        choices=("on", "off"),
        help="force PostgreSQL's JIT for the server's connections (PGOPTIONS), to measure it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse", action="store_true", help="time the kept database again (no generation)"
    )
    args = parser.parse_args()
    if args.cards < 10_000:
        parser.error("--cards must be at least 10000")

    database_url, admin = _scratch_database_url()
    reuse = args.reuse and _database_exists(admin)
    if not reuse:
        _recreate(admin)
    env = {**os.environ, **production_environment(database_url)}
    if args.jit:
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c jit={args.jit}".strip()
    os.environ.update(env)
    on = date.today()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from apps.audit.chain import verify
        from apps.audit.dbroles import APP_ROLE

        on = timezone.localdate()
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)
        if reuse:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM cards_card")
                (made,) = cursor.fetchone()
            print(f"reusing {BENCH_DB} ({made} cards)")
            if made != args.cards:
                print(f"!! the kept database has {made} cards, not {args.cards}")
                return 1
        else:
            print(f"generating {args.cards} cards …", flush=True)
            generate(args.cards, on)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            (size,) = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM audit_accesslog")
            (log_rows,) = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM cards_card WHERE state = 'arrived'")
            (waiting,) = cursor.fetchone()
        print(f"database {size}; access log {log_rows} rows; {waiting} cards waiting", flush=True)
        started = time.perf_counter()
        verdict = verify()
        print(
            f"access log chain {'OK' if verdict.ok else 'BROKEN'}: {verdict.rows} rows "
            f"checked in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        if not verdict.ok:
            print(f"!! {verdict.broken}")
            return 1
        targets = _targets(on)
        # As production runs: the tables' owner migrated; the server is the application role,
        # which may only add to and read the access log (R-AUD-2).
        call_command("db_roles", verbosity=0)
        connection.close()
        _run(env, "collectstatic", "--noinput", "-v0")
        return _serve_and_time(args, {**env, "DATABASE_USER": APP_ROLE}, targets)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _recreate(admin, drop_only=True)


def _serve_and_time(args: argparse.Namespace, env: dict[str, str], targets: Targets) -> int:
    import tempfile

    import httpx

    with tempfile.TemporaryDirectory() as work:
        server = Server(env, port=args.port, workers=args.workers, log=Path(work) / "gunicorn.log")
        try:
            with httpx.Client() as probe:
                server.wait_ready(probe)
            before = _loadavg()
            timed, ok = measure(server.base, targets, repeat=args.repeat, warmup=args.warmup)
            after = _loadavg()
        finally:
            server.stop()
            log = (Path(work) / "gunicorn.log").read_text(errors="replace").strip()
            if log:
                print("-- gunicorn said:\n" + log[-3000:])
    if not ok or not timed[0].times_ms:
        return 1
    baseline, others = timed[0], timed[1:]
    baseline_p95 = percentile(baseline.times_ms, 0.95)
    print(f"load average before {before}, after {after} ({os.cpu_count()} cores)")
    if args.jit:
        print(f"JIT forced {args.jit} for the server's connections")
    print(f"{'page':<24} {'who':<11} {'p50_ms':>8} {'p95_ms':>8} {'max_ms':>8} {'p95/base':>9}")
    for page in timed:
        p50 = percentile(page.times_ms, 0.5)
        p95 = percentile(page.times_ms, 0.95)
        print(
            f"{page.name:<24} {page.persona:<11} {p50:8.1f} {p95:8.1f} "
            f"{max(page.times_ms):8.1f} {p95 / baseline_p95:9.1f}"
        )
    slowest = max(others, key=lambda page: percentile(page.times_ms, 0.95))
    slowest_p95 = percentile(slowest.times_ms, 0.95)
    ratio = slowest_p95 / baseline_p95
    print(
        f"cards={args.cards} pages={len(others)} slowest_page={slowest.name} "
        f"slowest_p95_ms={slowest_p95:.1f} baseline_p95_ms={baseline_p95:.1f} ratio={ratio:.1f}"
    )
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
