"""R-HND-4 asks at every handover whether another resident of the city shares the kana name:
an index on the kana (then the birth date) across offices. Built CONCURRENTLY (not atomic):
at a big city's size it takes minutes, during which counters keep writing."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("residents", "0004_custody_handover")]

    operations = [
        AddIndexConcurrently(
            model_name="resident",
            index=models.Index(fields=["search_kana", "birth_date"], name="resident_kana_city"),
        ),
    ]
