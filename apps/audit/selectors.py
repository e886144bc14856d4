from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from apps.accounts import policy
from apps.accounts.models import User
from apps.audit.models import AccessLog


def access_logs_for(
    user: User,
    *,
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AccessLog]:
    """The auditor reads the whole city's log; a supervisor reads their own office's."""
    logs = policy.restrict(
        AccessLog.objects.select_related("actor", "office", "resident"),
        user,
        allowed=policy.may_read_audit_log,
        whole_city=policy.reads_whole_city_log,
    )
    if action:
        logs = logs.filter(action=action)
    if date_from:
        logs = logs.filter(at__date__gte=date_from)
    if date_to:
        logs = logs.filter(at__date__lte=date_to)
    return logs
