"""The kana search on one collation, and no index that nothing reads.

- ``search_kana`` becomes collation "C" (the model says why), and the two indexes that could
  not serve the search (one in the database collation, which cannot turn LIKE into a range,
  one in a pattern operator class, which cannot serve the ORDER BY) give way to two that
  start with the office and serve filter and order together.
- The office's own index goes: both new indexes start with office_id.
- ``resident_code`` and ``my_number_index`` keep their unique indexes, now as constraints,
  and lose the pattern-ops copies nothing used (apps.core.dbops).

Not atomic, so that the new indexes are built CONCURRENTLY: at a big city's size that takes
minutes, during which counters keep writing.
"""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

from apps.core.dbops import field_index_dropped, unique_field_to_constraint


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0001_initial"),
        ("residents", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="resident", name="resident_kana_dob"),
        migrations.RemoveIndex(model_name="resident", name="resident_kana_prefix"),
        # With no index left on the column, a change of collation rewrites nothing.
        migrations.AlterField(
            model_name="resident",
            name="search_kana",
            field=models.CharField(db_collation="C", editable=False, max_length=240),
        ),
        AddIndexConcurrently(
            model_name="resident",
            index=models.Index(
                fields=["office", "search_kana", "birth_date"], name="resident_office_kana"
            ),
        ),
        AddIndexConcurrently(
            model_name="resident",
            index=models.Index(
                fields=["office", "birth_date", "search_kana"], name="resident_office_dob"
            ),
        ),
        field_index_dropped(
            model_name="resident",
            field_name="office",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="residents",
                to="accounts.office",
                verbose_name="担当庁舎",
            ),
            table="residents_resident",
            index="residents_resident_office_id_0328de96",
        ),
        unique_field_to_constraint(
            model_name="resident",
            field_name="resident_code",
            field=models.CharField(max_length=11, verbose_name="住民票コード"),
            table="residents_resident",
            constraint="resident_code_unique",
        ),
        unique_field_to_constraint(
            model_name="resident",
            field_name="my_number_index",
            field=models.CharField(editable=False, max_length=64),
            table="residents_resident",
            constraint="resident_my_number_index_unique",
        ),
    ]
