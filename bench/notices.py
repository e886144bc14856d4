"""Benchmark of the daily notice job against a hand-written INSERT … SELECT baseline.

    .venv/bin/python bench/notices.py --cards 100000
    .venv/bin/python bench/notices.py --cards 1000000

What it does, in its own scratch database (``madoguchi_bench``, dropped and created fresh on
the server the settings would use: DATABASE_URL's, or the embedded one; never the dev data):

1. migrates, then generates N cards with set-based SQL (no ORM, triggers off): residents in
   five offices, 3 % foreign (a third permanent residents on the national rule, the rest with
   a period of stay that ends the card), card expiries spread evenly over the next ten years,
   the usual mix of states (active, suspended, arrived and waiting, returned, void), about 1 %
   of holders with a renewal under way (a new card ordered, counted in N), and for each
   current card an authentication certificate and, for nine in ten, a signing one. Every
   certificate is valid to its 5th birthday after issue capped at the card's expiry, as
   R-CRT-1 says, so certificate expiries fall over the next five years, half of them on the
   card's own expiry day;
2. the baseline: one hand-written INSERT … SELECT creating exactly the notices the job must
   create for the day (it knows from the generator which foreign cards end with the stay);
3. empties the notices table and runs the real job (apps.notices.services.notices_run, the
   code the Celery task and `manage.py notices_run` call), checks that it created the same
   set of (kind, card, expiry) as the baseline, runs it again and counts what the re-run
   created;
4. runs the next day's job (the steady state), prints the plans of the selections, then as
   its last line
   ``cards=N due=D created=C rerun_created=R job_s=… baseline_s=… ratio=…``.

The job's time includes everything it does besides the baseline's insert: the R-NOT-3
classification in Python, numbering and cutting into batches, the batch rows, the run record
and the advisory lock. Rendering letters is a separate task per batch and is not timed here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

from cardgen import cards_sql  # noqa: E402  (bench/cardgen.py, next to this file)

BENCH_DB = "madoguchi_bench"
OFFICES = 5


def _admin_conninfo() -> dict[str, object]:
    """Where to create the scratch database; points Django at it through the environment."""
    url = os.environ.get("DATABASE_URL")
    if url:
        from config.env import parse_database_url

        db = parse_database_url(url)
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + BENCH_DB))
        return {
            "host": db["HOST"] or None,
            "port": db["PORT"] or None,
            "user": db["USER"] or None,
            "password": db["PASSWORD"] or None,
        }
    from config import devdb

    host = devdb.ensure_running(database="postgres")
    os.environ["EMBEDDED_DB_NAME"] = BENCH_DB
    return {"host": host, "user": "postgres"}


def _recreate(conninfo: dict[str, object], *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    params = {k: v for k, v in conninfo.items() if v is not None}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


GENERATE = """
SET session_replication_role = replica;  -- no history triggers, no FK checks: data is consistent
INSERT INTO accounts_office (id, code, name, kind)
SELECT gen_random_uuid(), 'bench' || g, '庁舎' || g, CASE g WHEN 1 THEN 'main' ELSE 'branch' END
FROM generate_series(1, {offices}) g;

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
                ELSE '' END AS category
    FROM generate_series(1::bigint, %(residents)s::bigint) g
),
dated AS (
    SELECT base.*,
           CASE WHEN state = 'arrived' THEN %(on)s::date + 3650 - (i %% 30)::int
                -- A period of stay (R-VAL-6) is at most a few years: those cards end sooner.
                WHEN category = 'mid_long_term' THEN %(on)s::date + 1 + ((i * 7919) %% 1095)::int
                ELSE %(on)s::date + 1 + ((i * 7919) %% 3652)::int END AS expires_on
    FROM base
)
SELECT dated.*,
       (SELECT ids FROM offices)[1 + (i %% {offices})::int] AS office_id,
       CASE WHEN category = 'mid_long_term'
            THEN (expires_on - interval '40 years')::date
            ELSE (expires_on - make_interval(years => 35 + (i %% 40)::int))::date END AS birth_date,
       -- National rule (R-VAL-2/4): issued within the year after the 10th-to-last birthday,
       -- so the 10th birthday after the issue date is the expiry. A period of stay: 3 years.
       CASE WHEN category = 'mid_long_term' THEN (expires_on - interval '3 years')::date
            WHEN state = 'arrived' THEN (expires_on - interval '10 years')::date
            ELSE (expires_on - interval '10 years')::date + (i %% 200)::int END AS issued_on
FROM dated;

INSERT INTO residents_resident (
    id, office_id, resident_code, family_name, given_name, family_name_kana, given_name_kana,
    former_surname, former_surname_kana, search_kana, birth_date, sex, postal_code, address,
    address_flagged_on, nationality, residence_category, period_of_stay_ends_on,
    residence_event_on, adult_ward, legal_representative_id, legal_representative_name,
    my_number_ciphertext, my_number_index, my_number_last4, left_reason, created_at,
    updated_at, household_code)
SELECT resident_id, office_id, lpad(i::text, 11, '0'), '山田', '太郎', 'ヤマダ', 'タロウ',
       '', '', 'ヤマダタロウ', birth_date, '1',
       lpad((i %% 1000)::text, 3, '0') || '-' || lpad((i %% 9973)::text, 4, '0'),
       'みどり市旭町' || (i %% 50) || '丁目' || (i %% 30) || '番' || (i %% 20) || '号',
       NULL, CASE category WHEN '' THEN 'JP' ELSE 'VN' END, category,
       CASE category WHEN 'mid_long_term' THEN expires_on END, NULL, false, NULL, '',
       decode(md5('c' || i), 'hex'), md5('i' || i) || md5('j' || i),
       lpad((i %% 10000)::text, 4, '0'), '', now(), now(),
       ''
FROM gen;

{cards}
SET session_replication_role = origin;
DROP TABLE gen;
"""

# The hand-written baseline: the same notices, one statement, no batches, no bookkeeping.
# It knows from the generator that a foreign card ends with the stay exactly when its expiry
# is the resident's period-of-stay end; the job decides that with the rules (R-NOT-3).
BASELINE_SELECT = """
SELECT CASE WHEN r.nationality <> 'JP' AND c.expires_on = r.period_of_stay_ends_on
            THEN 'stay_reminder' ELSE 'card_expiry' END,
       c.resident_id, c.id, c.expires_on, %(on)s
FROM cards_card c JOIN residents_resident r ON r.id = c.resident_id
WHERE c.state IN ('active', 'suspended') AND c.expires_on BETWEEN %(from)s AND %(until)s
  AND NOT EXISTS (SELECT 1 FROM cards_card p
                  WHERE p.resident_id = c.resident_id AND p.state IN ('ordered', 'arrived'))
UNION ALL
SELECT DISTINCT 'cert_expiry', c.resident_id, c.id, x.expires_on, %(on)s::date
FROM certificates_certificate x JOIN cards_card c ON c.id = x.card_id
WHERE x.state = 'active' AND x.expires_on BETWEEN %(from)s AND %(until)s
  AND c.state IN ('active', 'suspended') AND x.expires_on < c.expires_on
  AND NOT EXISTS (SELECT 1 FROM cards_card p
                  WHERE p.resident_id = c.resident_id AND p.state IN ('ordered', 'arrived'))
UNION ALL
SELECT 'pickup', c.resident_id, c.id, c.expires_on, %(on)s
FROM cards_card c WHERE c.state = 'arrived' AND c.arrived_on <= %(on)s
"""
BASELINE = (
    "INSERT INTO notices_notice (kind, resident_id, card_id, expires_on, created_on)"
    + BASELINE_SELECT
)

KEYS = "SELECT kind, card_id, expires_on FROM notices_notice"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000, help="cards to generate (N)")
    parser.add_argument(
        "--on", type=date.fromisoformat, default=date(2026, 1, 15), help="the job's day"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--render", action="store_true", help="also render the largest batch to PDF and CSV"
    )
    args = parser.parse_args()
    if args.cards < 200:
        parser.error("--cards must be at least 200")

    conninfo = _admin_conninfo()
    _recreate(conninfo)
    try:
        return _bench(args.cards, args.on, render=args.render)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _recreate(conninfo, drop_only=True)


def _bench(cards: int, on: date, *, render: bool) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.notices import job
    from apps.notices.rules import expiry_window
    from apps.notices.services import notices_run

    call_command("migrate", verbosity=0, interactive=False)
    renewals = cards // 100
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            GENERATE.format(
                offices=OFFICES, cards=cards_sql(arrived="%(on)s::date - (i %% 30)::int")
            ),
            {"on": on, "residents": cards - renewals, "renewals": renewals},
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM cards_card")
        (made,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM certificates_certificate")
        (certificates,) = cursor.fetchone()
    print(
        f"generated {made} cards, {certificates} certificates "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    assert made == cards, (made, cards)

    first, last = expiry_window(on)
    span = {"on": on, "from": first, "until": last}
    with connection.cursor() as cursor:
        # Warm the caches for both contenders alike: read the rows the selections read.
        cursor.execute(f"SELECT count(*) FROM ({BASELINE_SELECT}) warm", span)
        cursor.execute("CHECKPOINT")
        started = time.perf_counter()
        cursor.execute(BASELINE, span)
        baseline_s = time.perf_counter() - started
        due = cursor.rowcount
        cursor.execute("CREATE TEMP TABLE baseline_keys AS " + KEYS)
        cursor.execute("TRUNCATE notices_notice, notices_noticebatch, notices_noticerun")
        cursor.execute("CHECKPOINT")

    started = time.perf_counter()
    result = notices_run(on=on, render=False)
    job_s = time.perf_counter() - started
    created = result.total

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (({KEYS}) EXCEPT (TABLE baseline_keys)) extra")
        (extra,) = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM ((TABLE baseline_keys) EXCEPT ({KEYS})) missing")
        (missing,) = cursor.fetchone()
        cursor.execute("SELECT count(*), coalesce(sum(notice_count), 0) FROM notices_noticebatch")
        batches, batched = cursor.fetchone()

    started = time.perf_counter()
    rerun = notices_run(on=on, render=False)
    rerun_s = time.perf_counter() - started

    # The steady state: the next day only the expiries whose notice date it is are new.
    started = time.perf_counter()
    next_day = notices_run(on=on + timedelta(days=1), render=False)
    next_day_s = time.perf_counter() - started

    print(f"window {first}..{last}; by kind: {result.created}; batches={batches}")
    print(f"next day ({on + timedelta(days=1)}): created={next_day.total} in {next_day_s:.3f} s")
    print(f"same notices as the baseline: extra={extra} missing={missing}; batched={batched}")
    print(f"rerun took {rerun_s:.3f} s")
    if render:
        import tempfile

        from django.test import override_settings

        from apps.notices.models import NoticeBatch
        from apps.notices.services import batch_render

        largest = NoticeBatch.objects.order_by("-notice_count").first()
        assert largest is not None
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            started = time.perf_counter()
            assert batch_render(batch_id=largest.pk)
            render_s = time.perf_counter() - started
        print(
            f"rendered one batch: {largest.notice_count} letters to PDF and CSV in "
            f"{render_s:.1f} s ({1000 * render_s / largest.notice_count:.1f} ms a letter)"
        )
    for name, plan in job.explain(on=on, window=(first, last)).items():
        print(f"-- plan of the {name} selection:\n{plan}")
    ok = extra == 0 and missing == 0 and batched == created == due and rerun.total == 0
    print(
        f"cards={cards} due={due} created={created} rerun_created={rerun.total} "
        f"job_s={job_s:.3f} baseline_s={baseline_s:.3f} ratio={job_s / baseline_s:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
