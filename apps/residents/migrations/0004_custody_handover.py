"""The household number (R-HND-4); the history triggers follow the new column."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_user_designated_handler'),
        ('residents', '0003_retention'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='resident',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='resident',
            name='update_update',
        ),
        migrations.AddField(
            model_name='resident',
            name='household_code',
            field=models.CharField(blank=True, default='', max_length=20, verbose_name='世帯番号'),
        ),
        migrations.AddField(
            model_name='residentevent',
            name='household_code',
            field=models.CharField(blank=True, default='', max_length=20, verbose_name='世帯番号'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='resident',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "residents_residentevent" ("address", "address_flagged_on", "adult_ward", "birth_date", "created_at", "family_name", "family_name_kana", "former_surname", "former_surname_kana", "given_name", "given_name_kana", "household_code", "id", "left_on", "left_reason", "legal_representative_id", "legal_representative_name", "my_number_erased_on", "my_number_last4", "nationality", "office_id", "period_of_stay_ends_on", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "postal_code", "residence_category", "residence_event_on", "resident_code", "sex", "updated_at") VALUES (NEW."address", NEW."address_flagged_on", NEW."adult_ward", NEW."birth_date", NEW."created_at", NEW."family_name", NEW."family_name_kana", NEW."former_surname", NEW."former_surname_kana", NEW."given_name", NEW."given_name_kana", NEW."household_code", NEW."id", NEW."left_on", NEW."left_reason", NEW."legal_representative_id", NEW."legal_representative_name", NEW."my_number_erased_on", NEW."my_number_last4", NEW."nationality", NEW."office_id", NEW."period_of_stay_ends_on", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."postal_code", NEW."residence_category", NEW."residence_event_on", NEW."resident_code", NEW."sex", NEW."updated_at"); RETURN NULL;', hash='ca4d6508f99060b77f9948ef41416e6891a6ae79', operation='INSERT', pgid='pgtrigger_insert_insert_424be', table='residents_resident', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='resident',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."address" IS DISTINCT FROM (NEW."address") OR OLD."address_flagged_on" IS DISTINCT FROM (NEW."address_flagged_on") OR OLD."adult_ward" IS DISTINCT FROM (NEW."adult_ward") OR OLD."birth_date" IS DISTINCT FROM (NEW."birth_date") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."family_name" IS DISTINCT FROM (NEW."family_name") OR OLD."family_name_kana" IS DISTINCT FROM (NEW."family_name_kana") OR OLD."former_surname" IS DISTINCT FROM (NEW."former_surname") OR OLD."former_surname_kana" IS DISTINCT FROM (NEW."former_surname_kana") OR OLD."given_name" IS DISTINCT FROM (NEW."given_name") OR OLD."given_name_kana" IS DISTINCT FROM (NEW."given_name_kana") OR OLD."household_code" IS DISTINCT FROM (NEW."household_code") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."left_on" IS DISTINCT FROM (NEW."left_on") OR OLD."left_reason" IS DISTINCT FROM (NEW."left_reason") OR OLD."legal_representative_id" IS DISTINCT FROM (NEW."legal_representative_id") OR OLD."legal_representative_name" IS DISTINCT FROM (NEW."legal_representative_name") OR OLD."my_number_erased_on" IS DISTINCT FROM (NEW."my_number_erased_on") OR OLD."my_number_last4" IS DISTINCT FROM (NEW."my_number_last4") OR OLD."nationality" IS DISTINCT FROM (NEW."nationality") OR OLD."office_id" IS DISTINCT FROM (NEW."office_id") OR OLD."period_of_stay_ends_on" IS DISTINCT FROM (NEW."period_of_stay_ends_on") OR OLD."postal_code" IS DISTINCT FROM (NEW."postal_code") OR OLD."residence_category" IS DISTINCT FROM (NEW."residence_category") OR OLD."residence_event_on" IS DISTINCT FROM (NEW."residence_event_on") OR OLD."resident_code" IS DISTINCT FROM (NEW."resident_code") OR OLD."sex" IS DISTINCT FROM (NEW."sex") OR OLD."updated_at" IS DISTINCT FROM (NEW."updated_at"))', func='INSERT INTO "residents_residentevent" ("address", "address_flagged_on", "adult_ward", "birth_date", "created_at", "family_name", "family_name_kana", "former_surname", "former_surname_kana", "given_name", "given_name_kana", "household_code", "id", "left_on", "left_reason", "legal_representative_id", "legal_representative_name", "my_number_erased_on", "my_number_last4", "nationality", "office_id", "period_of_stay_ends_on", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "postal_code", "residence_category", "residence_event_on", "resident_code", "sex", "updated_at") VALUES (NEW."address", NEW."address_flagged_on", NEW."adult_ward", NEW."birth_date", NEW."created_at", NEW."family_name", NEW."family_name_kana", NEW."former_surname", NEW."former_surname_kana", NEW."given_name", NEW."given_name_kana", NEW."household_code", NEW."id", NEW."left_on", NEW."left_reason", NEW."legal_representative_id", NEW."legal_representative_name", NEW."my_number_erased_on", NEW."my_number_last4", NEW."nationality", NEW."office_id", NEW."period_of_stay_ends_on", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."postal_code", NEW."residence_category", NEW."residence_event_on", NEW."resident_code", NEW."sex", NEW."updated_at"); RETURN NULL;', hash='105b5a7019b1d9a9e5e2ab8905ff1ac2d0a2f0e8', operation='UPDATE', pgid='pgtrigger_update_update_7908c', table='residents_resident', when='AFTER')),
        ),
    ]
