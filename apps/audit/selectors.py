from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.audit.models import AccessLog


def access_logs_for(
    user: User,
    *,
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AccessLog]:
    """The auditor reads the whole city's log; a supervisor reads their own office's."""
    logs = AccessLog.objects.select_related("actor", "office", "resident")
    if user.role != Role.AUDITOR:
        if user.office_id is None:
            return logs.none()
        logs = logs.filter(office_id=user.office_id)
    if action:
        logs = logs.filter(action=action)
    if date_from:
        logs = logs.filter(at__date__gte=date_from)
    if date_to:
        logs = logs.filter(at__date__lte=date_to)
    return logs
