"""An office's stock of waiting cards as one index range (Card.Meta.indexes: card_waiting).

Not atomic, so that the index is built CONCURRENTLY while counters keep working.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cards", "0003_card_office")]

    operations = [
        AddIndexConcurrently(
            model_name="card",
            index=models.Index(
                condition=models.Q(("state", "arrived")),
                fields=["office", "arrived_on", "id"],
                name="card_waiting",
            ),
        ),
    ]
