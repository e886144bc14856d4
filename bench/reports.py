"""Benchmark of the supervisor's reports against one ``SELECT count(*)`` over the cards.

    .venv/bin/python bench/reports.py --cards 300000
    .venv/bin/python bench/reports.py --cards 3000000

What it does, in its own scratch database (``mg_reports_bench``, dropped and created fresh on
the server the settings would use, dropped again at the end unless ``--keep``):

1. migrates, then generates N cards with their certificates through the set-based generator
   the notice bench uses (bench/notices.py's GENERATE and bench/cardgen.py): five offices,
   3 % foreign residents, expiries over the next ten years, the usual mix of states;
2. adds, set-based too, two counters and two clerks per office, N/3 applications (one per
   third resident: the arrived cards' waiting, the others handed over, received over the last
   year between 9:00 and 17:00), a fee payment for one application in ten (a few voided) and
   the daily closes of the last month; VACUUM ANALYZE; then runs the nightly refresh of the
   expiry wave's materialized views (apps.reports.summaries; timed and printed, not a report);
3. times one ``SELECT count(*) FROM cards_card`` (the baseline, ``scan_s``), then each report
   (apps.reports.selectors, the code the pages and exports call) for a supervisor of one
   office over this month and for the auditor over the whole city and this fiscal year, each
   after one warming run; prints every timing, then as its last line
   ``cards=N slowest_report=… slowest_s=… scan_s=… ratio=…``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

import notices as notices_bench  # noqa: E402  (bench/notices.py: the shared generator)
from cardgen import cards_sql  # noqa: E402

# Our own scratch database: the notice bench's name may be in use by another run.
notices_bench.BENCH_DB = "mg_reports_bench"

PEOPLE = """
SET session_replication_role = replica;
INSERT INTO accounts_counter (id, office_id, code, name)
SELECT gen_random_uuid(), o.id, n::text, n || '番窓口'
FROM accounts_office o CROSS JOIN generate_series(1, 2) n;
INSERT INTO accounts_user (id, password, last_login, is_superuser, username, first_name,
    last_name, email, is_staff, is_active, date_joined, role, office_id, counter_id,
    designated_handler)
SELECT gen_random_uuid(), '!', NULL, false, 'bench_' || o.code || '_' || c.code, c.code,
       '職員', '', false, true, now(), 'clerk', o.id, c.id, false
FROM accounts_counter c JOIN accounts_office o ON o.id = c.office_id;
SET session_replication_role = origin;
"""

APPLICATIONS = """
SET session_replication_role = replica;
CREATE TEMP TABLE clerks AS
SELECT u.id AS user_id, u.office_id, u.counter_id,
       row_number() OVER (PARTITION BY u.office_id ORDER BY u.username) - 1 AS n
FROM accounts_user u WHERE u.username LIKE 'bench\\_%%';

CREATE TEMP TABLE made AS
SELECT c.id AS card_id, c.resident_id, c.office_id, c.state AS card_state,
       row_number() OVER (ORDER BY c.id) AS i
FROM cards_card c WHERE c.state <> 'ordered';

INSERT INTO applications_application (
    id, kind, state, resident_id, office_id, counter_id, applicant_type, applicant_name,
    documents, received_on, received_at, received_by_id, old_card_id, old_card_returned,
    reissue_reason, lost_at_home, police_report_no, disaster_certificate_no,
    damaged_card_surrendered, with_certificates, former_surname_listed, fee_row,
    fee_amount_yen, fee_schedule_id, waiver_id, payment_id, new_card_id, ordered_at,
    arrived_at, handed_over_at, handed_over_by_id, handover_applicant_type,
    handover_documents, pins_set, legal_rep_present, notification_card,
    old_card_returned_at_handover, cancelled_at, cancelled_by_id, cancel_reason, created_at,
    updated_at, express, express_reason)
SELECT gen_random_uuid(), 'first_issue',
       CASE WHEN m.card_state = 'arrived' THEN 'arrived' ELSE 'handed_over' END,
       m.resident_id, m.office_id, k.counter_id, 'holder', '', '{}', a.at::date, a.at,
       k.user_id, NULL, true, '', false, '', '', false, true, false, 'first_issue_free', 0,
       %(schedule)s, NULL, NULL, m.card_id, a.at + interval '1 day',
       a.at + interval '14 days',
       CASE WHEN m.card_state = 'arrived' THEN NULL
            ELSE least(a.at + make_interval(days => 15 + (m.i %% 40)::int, mins => 7),
                       %(now)s::timestamptz - interval '1 hour') END,
       CASE WHEN m.card_state = 'arrived' THEN NULL ELSE k.user_id END,
       CASE WHEN m.card_state = 'arrived' THEN '' ELSE 'holder' END, '{}',
       m.card_state <> 'arrived', false, '', false, NULL, NULL, '', a.at, a.at, false, ''
FROM made m
JOIN clerks k ON k.office_id = m.office_id AND k.n = (m.i / 7) %% 2
CROSS JOIN LATERAL (
    SELECT (%(today)s::date - (m.i %% 365)::int + time '09:00'
            + make_interval(mins => ((m.i * 37) %% 480)::int)) AT TIME ZONE %(zone)s AS at
) a
WHERE m.i %% 3 = 0;

INSERT INTO fees_payment (
    id, office_id, counter_id, fiscal_year, receipt_number, resident_id, application_id,
    fee_row, schedule_id, amount_yen, method, business_date, received_by_id, received_at,
    idempotency_key, voided)
SELECT gen_random_uuid(), p.office_id, p.counter_id,
       extract(year FROM p.received_on - interval '3 months')::int,
       row_number() OVER (PARTITION BY p.office_id,
                          extract(year FROM p.received_on - interval '3 months')
                          ORDER BY p.received_at, p.id),
       p.resident_id, NULL, 'reissue_loss_with_certs', %(schedule)s, 1000,
       CASE WHEN p.n %% 4 = 0 THEN 'cashless' ELSE 'cash' END, p.received_on,
       p.received_by_id, p.received_at, '', p.n %% 97 = 0
FROM (SELECT a.*, row_number() OVER (ORDER BY a.id) AS n FROM applications_application a) p
WHERE p.n %% 10 = 0;

INSERT INTO fees_paymentvoid (payment_id, reason, outcome, voided_by_id, voided_at)
SELECT id, '誤って領収', 'await_payment', received_by_id, received_at + interval '5 minutes'
FROM fees_payment WHERE voided;

INSERT INTO fees_dailyclose (
    id, office_id, counter_id, business_date, expected_cash_yen, counted_cash_yen,
    cashless_total_yen, payments_count, voided_count, voided_total_yen, note, closed_by_id,
    closed_at, reopened_at, reopened_by_id, reopen_reason)
SELECT gen_random_uuid(), k.office_id, k.counter_id, d::date, 10000,
       10000 + CASE WHEN extract(day FROM d)::int %% 9 = 0 THEN -500 ELSE 0 END, 0, 10, 0, 0,
       '', k.user_id, d + interval '17 hours', NULL, NULL, ''
FROM clerks k CROSS JOIN generate_series(%(today)s::date - 30, %(today)s::date - 1,
                                         interval '1 day') d;
SET session_replication_role = origin;
DROP TABLE made;
DROP TABLE clerks;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=300_000, help="cards to generate (N)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.cards < 300:
        parser.error("--cards must be at least 300")
    conninfo = notices_bench._admin_conninfo()
    notices_bench._recreate(conninfo)
    try:
        return _bench(args.cards)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            notices_bench._recreate(conninfo, drop_only=True)


def _bench(cards: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import Office, User
    from apps.accounts.roles import Role
    from apps.fees.models import FeeSchedule
    from apps.fees.rules import fiscal_year_of
    from apps.fees.services import fee_schedule_seed_default
    from apps.reports import selectors
    from apps.reports.rules import Period, default_period, fiscal_year_period

    call_command("migrate", verbosity=0, interactive=False)
    today = timezone.localdate()
    renewals = cards // 100
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            notices_bench.GENERATE.format(
                offices=notices_bench.OFFICES,
                cards=cards_sql(arrived="%(on)s::date - (i %% 240)::int"),
            ),
            {"on": today, "residents": cards - renewals, "renewals": renewals},
        )
    fee_schedule_seed_default()
    schedule = FeeSchedule.objects.order_by("starts_on").first()
    assert schedule is not None
    with connection.cursor() as cursor:
        cursor.execute(PEOPLE)
        cursor.execute(
            APPLICATIONS,
            {
                "schedule": schedule.pk,
                "today": today,
                "now": timezone.now(),
                "zone": str(timezone.get_current_timezone()),
            },
        )
        # As autovacuum leaves a table at rest: statistics, and the visibility map that lets
        # the reports' index-only scans skip the table.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*) FROM cards_card")
        (made,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM applications_application")
        (applications,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM fees_payment")
        (payments,) = cursor.fetchone()
    print(
        f"generated {made} cards, {applications} applications, {payments} payments "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    assert made == cards, (made, cards)

    from apps.reports.summaries import refresh

    started = time.perf_counter()
    refresh()  # the nightly job behind the expiry wave (apps.reports.summaries)
    print(f"nightly refresh of the wave views: {time.perf_counter() - started:.1f} s", flush=True)

    office = Office.objects.order_by("code").first()
    assert office is not None
    supervisor = User.objects.create_user(
        username="bench_supervisor", role=Role.SUPERVISOR, office=office
    )
    auditor = User.objects.create_user(username="bench_auditor", role=Role.AUDITOR, office=None)
    month = selectors.Filters(period=default_period(today))
    year = selectors.Filters(period=fiscal_year_period(fiscal_year_of(today)))
    today_only = selectors.Filters(period=Period(today, today))

    def timed(run: object) -> float:
        assert callable(run)
        run()  # warm the caches, as the baseline is warmed
        started = time.perf_counter()
        run()
        return time.perf_counter() - started

    with connection.cursor() as cursor:
        scan_s = timed(lambda: cursor.execute("SELECT count(*) FROM cards_card"))

    runs: dict[str, object] = {}
    for who, user, filters in (("supervisor", supervisor, month), ("auditor", auditor, year)):
        runs[f"home/{who}"] = lambda u=user: selectors.supervisor_waiting(user=u, today=today)
        runs[f"activity/{who}"] = lambda u=user, f=filters: selectors.activity_report(
            user=u, filters=f
        )
        runs[f"stock/{who}"] = lambda u=user, f=filters: selectors.stock_report(
            user=u, filters=f, today=today, band=3
        )
        runs[f"money/{who}"] = lambda u=user, f=filters: selectors.money_report(user=u, filters=f)
        runs[f"wave/{who}"] = lambda u=user: selectors.wave_report(
            user=u, filters=today_only, today=today
        )
        runs[f"reconciliation/{who}"] = lambda u=user, f=filters: selectors.reconciliation_report(
            user=u, filters=f
        )
        runs[f"security/{who}"] = lambda u=user, f=filters: selectors.security_report(
            user=u, filters=f
        )
    timings = {name: timed(run) for name, run in runs.items()}
    for name, seconds in timings.items():
        print(f"{name:28s} {seconds:8.3f} s  ratio {seconds / scan_s:6.2f}", flush=True)
    slowest = max(timings, key=lambda name: timings[name])
    print(
        f"cards={cards} slowest_report={slowest} slowest_s={timings[slowest]:.3f} "
        f"scan_s={scan_s:.3f} ratio={timings[slowest] / scan_s:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
