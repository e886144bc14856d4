"""The access log pages by (at, id): one index per scope, and none that nothing reads.

accesslog_at (the auditor's whole city) and accesslog_office_at (a supervisor's office) serve
the newest-first order and the period filter as one range. They replace the single-column
indexes on at and on office; the one on resident goes too, accesslog_resident_at starts with
it. Not atomic: the new indexes are built CONCURRENTLY, the log keeps taking rows meanwhile.
"""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

from apps.core.dbops import field_index_dropped


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0002_initial"),
        ("residents", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(fields=["at", "id"], name="accesslog_at"),
        ),
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(fields=["office", "at", "id"], name="accesslog_office_at"),
        ),
        field_index_dropped(
            model_name="accesslog",
            field_name="at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="日時"),
            table="audit_accesslog",
            index="audit_accesslog_at_210015f3",
        ),
        field_index_dropped(
            model_name="accesslog",
            field_name="office",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.office",
                verbose_name="庁舎",
            ),
            table="audit_accesslog",
            index="audit_accesslog_office_id_7bf5717d",
        ),
        field_index_dropped(
            model_name="accesslog",
            field_name="resident",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="access_logs",
                to="residents.resident",
                verbose_name="住民",
            ),
            table="audit_accesslog",
            index="audit_accesslog_resident_id_5589b5c8",
        ),
    ]
