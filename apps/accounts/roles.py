"""Staff roles and what each may do. One place, so a new permission is one edit."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    CLERK = "clerk", "窓口職員"
    SUPERVISOR = "supervisor", "監督者"
    AUDITOR = "auditor", "監査担当"
    ADMIN = "admin", "システム管理者"


# Who works with residents' records at the counter (scoped to their own office).
RESIDENT_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR})
# Who may reveal a My Number, always with a purpose and a log row (R-MYN-2).
REVEAL_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR})
# Who reads the access log (the auditor sees the whole city; a supervisor only their office).
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.SUPERVISOR})
