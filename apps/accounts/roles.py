"""Staff roles. What each role may do is apps.accounts.policy's business, not this module's."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    CLERK = "clerk", "窓口職員"
    SUPERVISOR = "supervisor", "監督者"
    AUDITOR = "auditor", "監査担当"
    ADMIN = "admin", "システム管理者"
