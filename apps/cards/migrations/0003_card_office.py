"""Each card knows the office it waits at (Card.office), backfilled from its holder.

The resident's own index goes: card_resident_applied starts with resident_id. The office's
stock index comes in 0004, built concurrently.
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from apps.core.dbops import field_index_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('cards', '0002_initial'),
        ('residents', '0002_search_indexes'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='card',
            name='update_update',
        ),
        migrations.AddField(
            model_name='card',
            name='office',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.office', verbose_name='交付庁舎'),
        ),
        # Every card waits at its holder's office (Card.office). The update trigger is gone
        # here (removed above, replaced below), so the backfill writes no history rows.
        # Foreign keys checked as the UPDATE ends, not queued to the commit: with checks
        # pending, the ALTER below would be refused.
        migrations.RunSQL(
            "SET CONSTRAINTS ALL IMMEDIATE; "
            "UPDATE cards_card c SET office_id = r.office_id FROM residents_resident r "
            "WHERE r.id = c.resident_id AND c.office_id IS NULL",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='card',
            name='office',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.office', verbose_name='交付庁舎'),
        ),
        field_index_dropped(
            model_name='card',
            field_name='resident',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cards', to='residents.resident', verbose_name='住民'),
            table='cards_card',
            index='cards_card_resident_id_d0d52a21',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='card',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."applied_on" IS DISTINCT FROM (NEW."applied_on") OR OLD."arrived_on" IS DISTINCT FROM (NEW."arrived_on") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."end_reason" IS DISTINCT FROM (NEW."end_reason") OR OLD."ended_on" IS DISTINCT FROM (NEW."ended_on") OR OLD."expires_on" IS DISTINCT FROM (NEW."expires_on") OR OLD."expiry_extended" IS DISTINCT FROM (NEW."expiry_extended") OR OLD."former_surname_listed" IS DISTINCT FROM (NEW."former_surname_listed") OR OLD."handed_over_on" IS DISTINCT FROM (NEW."handed_over_on") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."issued_on" IS DISTINCT FROM (NEW."issued_on") OR OLD."resident_id" IS DISTINCT FROM (NEW."resident_id") OR OLD."state" IS DISTINCT FROM (NEW."state") OR OLD."updated_at" IS DISTINCT FROM (NEW."updated_at"))', func='INSERT INTO "cards_cardevent" ("applied_on", "arrived_on", "created_at", "end_reason", "ended_on", "expires_on", "expiry_extended", "former_surname_listed", "handed_over_on", "id", "issued_on", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "resident_id", "state", "updated_at") VALUES (NEW."applied_on", NEW."arrived_on", NEW."created_at", NEW."end_reason", NEW."ended_on", NEW."expires_on", NEW."expiry_extended", NEW."former_surname_listed", NEW."handed_over_on", NEW."id", NEW."issued_on", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."resident_id", NEW."state", NEW."updated_at"); RETURN NULL;', hash='e8f394c8f49f018b87b4827059ad49fcf700b02f', operation='UPDATE', pgid='pgtrigger_update_update_628bf', table='cards_card', when='AFTER')),
        ),
    ]
