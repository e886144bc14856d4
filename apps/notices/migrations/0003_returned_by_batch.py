"""The returned letters of each batch as a small partial index (the batch list counts them).

Not atomic: built CONCURRENTLY, the daily job keeps inserting letters meanwhile.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("notices", "0002_card_pending_index")]

    operations = [
        AddIndexConcurrently(
            model_name="notice",
            index=models.Index(
                condition=models.Q(("returned_on__isnull", False)),
                fields=["batch"],
                name="notice_returned_by_batch",
            ),
        ),
    ]
