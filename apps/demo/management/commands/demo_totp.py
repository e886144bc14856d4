from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.mfa import totp_code
from apps.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = (
        "Print how to sign in to the demo: the password, the TOTP secret every demo user has "
        "enrolled (for an authenticator app) and the code valid now. Development only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo_totp is for the demo city only")
        left = settings.MFA_TOTP_PERIOD - int(time.time()) % settings.MFA_TOTP_PERIOD
        self.stdout.write(
            "Sign in: user name (clerk_a, clerk_b, supervisor_a, auditor, admin …), "
            f"password {DEMO_PASSWORD}, then the 6-digit code.\n"
            f"  TOTP secret of every demo user: {DEMO_TOTP_SECRET}\n"
            f"  otpauth://totp/madoguchi-demo?secret={DEMO_TOTP_SECRET}&issuer=madoguchi\n"
            f"  code now: {totp_code(DEMO_TOTP_SECRET)} (valid for {left}s more; run "
            "`make demo-code` or `.venv/bin/python manage.py demo_totp` again for the next)"
        )
