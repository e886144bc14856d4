from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.audit.models import AccessLog, Alert


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def access_logs_for(
    user: User,
    *,
    action: str = "",
    outcome: str = "",
    actor_id: uuid.UUID | None = None,
    resident_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AccessLog]:
    """The auditor reads the whole city's log; a supervisor reads their own office's.

    Filters by member of staff, resident, action, outcome and period (whole days in the city's
    time zone, as a timestamp range so the index on `at` serves it).
    """
    logs = policy.restrict(
        AccessLog.objects.select_related("actor", "office", "resident"),
        user,
        allowed=policy.may_read_audit_log,
        whole_city=policy.reads_whole_city_log,
    )
    if action:
        logs = logs.filter(action=action)
    if outcome:
        logs = logs.filter(outcome=outcome)
    if actor_id:
        logs = logs.filter(actor_id=actor_id)
    if resident_id:
        logs = logs.filter(resident_id=resident_id)
    if date_from:
        logs = logs.filter(at__gte=_start_of(date_from))
    if date_to:
        logs = logs.filter(at__lt=_start_of(date_to + timedelta(days=1)))
    return logs


def staff_for_audit(user: User) -> QuerySet[User]:
    """The members of staff whose rows `user` may read (the filter's choices)."""
    staff = User.objects.order_by("username")
    if policy.reads_whole_city_log(user):
        return staff
    return policy.restrict(staff, user, allowed=policy.may_read_audit_log)


def open_alerts_for(user: User) -> QuerySet[Alert]:
    """R-AUD-3 alerts not yet acknowledged, for the supervisors of the office and the auditor."""
    alerts = policy.restrict(
        Alert.objects.select_related("actor").filter(acknowledged_at__isnull=True),
        user,
        allowed=policy.may_read_audit_log,
        whole_city=policy.reads_whole_city_log,
    )
    return alerts
