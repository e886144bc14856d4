from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.mfa import FactorSecretError, reseal_factor_secrets


class Command(BaseCommand):
    help = (
        "Seal every stored TOTP key and recovery-code seed under the current SECRET_KEY. Run it "
        "after moving the old SECRET_KEY to SECRET_KEY_FALLBACKS and before dropping it "
        "(README, key rotation). Idempotent; one transaction."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                changed = reseal_factor_secrets(
                    authenticators=Authenticator.objects, from_clear=False
                )
        except FactorSecretError as exc:
            # Nothing was changed (one transaction). A factor that opens under no key must be
            # removed in the admin and enrolled again by its owner.
            raise CommandError(f"mfa_reseal: {exc}; nothing changed") from None
        self.stdout.write(f"mfa_reseal: {changed} authenticator(s) resealed")
