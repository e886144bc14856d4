"""R-HND-4 asks at every handover whether another resident of the city shares the kana name:
a hash index on the kana across offices (equality only, so the office's prefix search keeps
its own index). Built CONCURRENTLY (not atomic):
at a big city's size it takes minutes, during which counters keep writing."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.contrib.postgres.indexes import HashIndex
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("residents", "0004_custody_handover")]

    operations = [
        AddIndexConcurrently(
            model_name="resident",
            index=HashIndex(fields=["search_kana"], name="resident_kana_city"),
        ),
    ]
