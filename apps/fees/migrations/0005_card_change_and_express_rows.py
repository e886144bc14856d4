"""Issue 10: the free row for changes written on a card (R-CHG, R-VAL-7) and the two express
rows (R-EXP-2), added to every schedule already written so that a quote on any day finds them.

FeeAmount rows are append-only (a trigger refuses UPDATE and DELETE); INSERT is allowed, and
each schedule gets the rows only if it lacks them, so the migration can run again. Amounts are
written out here, not read from apps.fees.rules (a migration must do the same thing forever).
"""

from django.db import migrations, models

NEW_AMOUNTS = {
    "card_change_free": 0,
    "express_with_certs": 2000,
    "express_no_certs": 1800,
}

ROWS = [
    "first_issue_free",
    "renewal_free",
    "renewal_not_returned_with_certs",
    "renewal_not_returned_no_certs",
    "reissue_loss_with_certs",
    "reissue_loss_no_certs",
    "reissue_damage_with_certs",
    "reissue_damage_no_certs",
    "reissue_endorsement_full",
    "reissue_disaster",
    "reissue_not_holder_fault",
    "reissue_number_changed",
    "certificate_only",
    *NEW_AMOUNTS,
]


def add_rows(apps, schema_editor):
    FeeSchedule = apps.get_model("fees", "FeeSchedule")
    FeeAmount = apps.get_model("fees", "FeeAmount")
    for schedule in FeeSchedule.objects.all():
        have = set(FeeAmount.objects.filter(schedule=schedule).values_list("row", flat=True))
        FeeAmount.objects.bulk_create(
            FeeAmount(schedule=schedule, row=row, amount_yen=amount)
            for row, amount in NEW_AMOUNTS.items()
            if row not in have
        )


class Migration(migrations.Migration):
    dependencies = [("fees", "0004_one_payment_per_fee_voids_and_reopened_closes")]

    operations = [
        migrations.RemoveConstraint(model_name="feeamount", name="feeamount_row_valid"),
        migrations.AddConstraint(
            model_name="feeamount",
            constraint=models.CheckConstraint(
                condition=models.Q(row__in=ROWS), name="feeamount_row_valid"
            ),
        ),
        migrations.RunPython(add_rows, migrations.RunPython.noop),
    ]
