"""A small partial index on cards_card for the notice job (owned by apps.notices).

The job asks two questions of cards that are not current: "is a newer card ordered or waiting
for this holder?" (R-NOT-1: a renewal under way gets no notice) and "which arrived cards have no
pickup notice yet?" (R-ISS-1). Both read only cards in state ordered/arrived, a per-cent or two
of all cards; without this index each run would read every card. It lives here, not in
cards.Card.Meta, because only the notice job needs it; the cards app may adopt it later (drop
this operation then).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0001_initial"),
        ("cards", "0002_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS notices_card_pending ON cards_card (resident_id) "
                "WHERE state IN ('ordered', 'arrived')"
            ),
            reverse_sql="DROP INDEX IF EXISTS notices_card_pending",
        ),
    ]
