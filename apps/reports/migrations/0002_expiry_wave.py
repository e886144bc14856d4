"""The expiry wave and the measured counter time as materialized views, refreshed nightly.

A 24-month look at 3,000,000 cards and their 6,000,000 certificates reads a fifth of the
cards and 40 % of the certificates, each certificate with its card: seconds, where a report
must cost about one count of the cards (bench/reports.py). The forecast changes by the day,
so it is computed once a night (``reports.refresh``, config/celery.py), and the page says
when. The SQL is apps.reports.summaries's.
"""

from django.db import migrations

from apps.reports.summaries import COUNTER_MINUTES_VIEW, WAVE_VIEW


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("applications", "0003_arrivals_per_office_in_the_background"),
        ("certificates", "0002_serial_unique"),
        ("residents", "0003_retention"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                f"CREATE MATERIALIZED VIEW reports_expirywave AS {WAVE_VIEW}",
                "CREATE UNIQUE INDEX reports_expirywave_key"
                " ON reports_expirywave (month, office_id, class)",
                f"CREATE MATERIALIZED VIEW reports_counterminutes AS {COUNTER_MINUTES_VIEW}",
                "CREATE UNIQUE INDEX reports_counterminutes_key"
                " ON reports_counterminutes (scope, step)",
                # Only the owner may refresh a view; the application runs as a role that
                # owns nothing (apps.audit.dbroles), so it refreshes through this function.
                "CREATE FUNCTION reports_refresh() RETURNS void LANGUAGE plpgsql"
                " SECURITY DEFINER SET search_path FROM CURRENT AS $$ BEGIN"
                " REFRESH MATERIALIZED VIEW CONCURRENTLY reports_expirywave;"
                " REFRESH MATERIALIZED VIEW CONCURRENTLY reports_counterminutes;"
                " END $$",
            ],
            reverse_sql=[
                "DROP FUNCTION reports_refresh()",
                "DROP MATERIALIZED VIEW reports_counterminutes",
                "DROP MATERIALIZED VIEW reports_expirywave",
            ],
        )
    ]
