"""The reports' indexes on applications (apps.reports.selectors.activity_report).

Not atomic, so that the indexes are built CONCURRENTLY while counters keep working.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("applications", "0003_arrivals_per_office_in_the_background")]

    operations = [
        AddIndexConcurrently(
            model_name="application",
            index=models.Index(
                fields=["received_at"],
                include=["office", "counter", "received_by", "kind"],
                name="application_received",
            ),
        ),
        AddIndexConcurrently(
            model_name="application",
            index=models.Index(
                condition=models.Q(("state", "handed_over")),
                fields=["handed_over_at"],
                include=["received_on", "kind", "office"],
                name="application_handed_over",
            ),
        ),
    ]
