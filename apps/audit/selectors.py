"""Reads of the access log: scoped by role, filtered by staff, resident, action, outcome and
period, paged by key."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.audit.models import AccessLog, Alert
from apps.core.paging import Keyset, KeysetPage

LOG_PAGE_SIZE = 100
# Newest first; the id breaks ties between rows of the same instant. The indexes
# accesslog_at and accesslog_office_at (AccessLog.Meta) serve this order with either scope.
_NEWEST_FIRST = Keyset(AccessLog, ("-at", "-id"))


# What a row of the log screen shows, of the row and the three rows it names: a page is 100
# rows, and the staff, office and resident rows would otherwise be read whole. (An export
# reads access_logs_for whole.)
_LISTED = (
    "id",
    "at",
    "action",
    "purpose",
    "outcome",
    "detail",
    "actor__id",
    "actor__username",
    "actor__first_name",
    "actor__last_name",
    "office__id",
    "office__name",
    "resident__id",
    "resident__family_name",
    "resident__given_name",
    "resident__resident_code",
)


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the city's time zone, as an aware instant."""
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

    The period is a range of instants, [date_from 00:00, the day after date_to 00:00) in the
    city's time zone, which the index on ``at`` serves; a filter on the date of ``at`` would
    cast every row and read the whole log.
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


def access_log_page(
    logs: QuerySet[AccessLog], *, params: Mapping[str, Any], size: int = LOG_PAGE_SIZE
) -> KeysetPage[AccessLog]:
    """One page, newest first, from the query string's cursor (apps.core.paging): no OFFSET,
    no count, so the last page of two million rows costs what the first does."""
    return _NEWEST_FIRST.page(logs.only(*_LISTED), params=params, size=size)


def staff_for_audit(user: User) -> QuerySet[User]:
    """The members of staff whose rows `user` may read (the filter's choices): only what an
    option shows (``StaffChoice``), as every view of the log lists all of them."""
    staff = User.objects.only("id", "username", "first_name", "last_name").order_by("username")
    if policy.reads_whole_city_log(user):
        return staff
    return policy.restrict(staff, user, allowed=policy.may_read_audit_log)


def open_alerts_for(user: User) -> QuerySet[Alert]:
    """R-AUD-3 alerts not yet acknowledged, for the supervisors of the office and the auditor."""
    return policy.restrict(
        Alert.objects.select_related("actor").filter(acknowledged_at__isnull=True),
        user,
        allowed=policy.may_read_audit_log,
        whole_city=policy.reads_whole_city_log,
    )
