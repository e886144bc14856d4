"""Load today's fee schedule (R-REI-3): the guidebook's amounts, in force since card
applications opened (2015-10-05).

The amounts are written out here rather than read from apps.fees.rules.DEFAULT_FEE_AMOUNTS:
a migration must do the same thing forever, even after that seed changes.
"""

import datetime

from django.db import migrations

STARTS_ON = datetime.date(2015, 10, 5)
AMOUNTS = {
    "first_issue_free": 0,
    "renewal_free": 0,
    "renewal_not_returned_with_certs": 1000,
    "renewal_not_returned_no_certs": 800,
    "reissue_loss_with_certs": 1000,
    "reissue_loss_no_certs": 800,
    "reissue_damage_with_certs": 1000,
    "reissue_damage_no_certs": 800,
    "reissue_endorsement_full": 0,
    "reissue_disaster": 0,
    "reissue_not_holder_fault": 0,
    "reissue_number_changed": 0,
    "certificate_only": 0,
}


def load(apps, schema_editor):
    FeeSchedule = apps.get_model("fees", "FeeSchedule")
    FeeAmount = apps.get_model("fees", "FeeAmount")
    if FeeSchedule.objects.filter(starts_on=STARTS_ON).exists():
        return
    schedule = FeeSchedule.objects.create(
        starts_on=STARTS_ON, note="ガイドブック記載の手数料（初期データ）"
    )
    FeeAmount.objects.bulk_create(
        FeeAmount(schedule=schedule, row=row, amount_yen=amount) for row, amount in AMOUNTS.items()
    )


class Migration(migrations.Migration):
    dependencies = [("fees", "0001_initial")]

    # No reverse: the schedule rows are append-only (a trigger refuses DELETE).
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
