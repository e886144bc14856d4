"""The applications counted per day, for the reports over long periods (apps.reports.summaries).

Refreshed with the wave every night (``reports.refresh``) through an owner's function.
"""

from django.db import migrations

from apps.reports.summaries import ACTIVITY_VIEW


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_expiry_wave")]

    operations = [
        migrations.RunSQL(
            sql=[
                f"CREATE MATERIALIZED VIEW reports_activitydaily AS {ACTIVITY_VIEW}",
                "CREATE UNIQUE INDEX reports_activitydaily_key ON reports_activitydaily"
                " (day, step, office_id, counter_id, clerk_id, kind, days)",
                "CREATE FUNCTION reports_refresh_activity() RETURNS void LANGUAGE plpgsql"
                " SECURITY DEFINER SET search_path FROM CURRENT AS $$ BEGIN"
                " REFRESH MATERIALIZED VIEW CONCURRENTLY reports_activitydaily;"
                " END $$",
            ],
            reverse_sql=[
                "DROP FUNCTION reports_refresh_activity()",
                "DROP MATERIALIZED VIEW reports_activitydaily",
            ],
        )
    ]
