"""Seal the second-factor secrets stored before sealing existed (apps.accounts.mfa)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from apps.accounts.mfa import open_factor_secret, reseal_factor_secrets


def seal(apps: Any, schema_editor: Any) -> None:
    authenticators = apps.get_model("mfa", "Authenticator").objects
    reseal_factor_secrets(authenticators=authenticators, from_clear=True)


def unseal(apps: Any, schema_editor: Any) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.filter(type__in=("totp", "recovery_codes")):
        data = dict(row.data)
        for key in ("secret", "seed"):
            if key in data:
                data[key] = open_factor_secret(data[key])
        if "migrated_codes" in data:
            data["migrated_codes"] = [open_factor_secret(code) for code in data["migrated_codes"]]
        row.data = data
        row.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_designated_handler"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(seal, unseal, elidable=False)]
