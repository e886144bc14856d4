"""The serial's uniqueness as a constraint: its unique index stays, the LIKE copy goes."""

from django.db import migrations, models

from apps.core.dbops import unique_field_to_constraint


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_initial")]

    operations = [
        unique_field_to_constraint(
            model_name="certificate",
            field_name="serial",
            field=models.CharField(max_length=64, verbose_name="シリアル番号"),
            table="certificates_certificate",
            constraint="certificate_serial_unique",
        ),
    ]
