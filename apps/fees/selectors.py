"""Reads about fees, scoped to the user's office (out of scope = 404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import Http404

from apps.accounts import policy
from apps.accounts.models import Counter, User
from apps.fees.models import DailyClose, FeeSchedule, Payment
from apps.fees.rules import FeeRow


def payments_for(user: User) -> QuerySet[Payment]:
    return policy.restrict(Payment.objects.all(), user)


def payment_get(*, user: User, payment_id: uuid.UUID) -> Payment:
    try:
        return (
            payments_for(user)
            .select_related("office", "counter", "resident", "received_by", "void", "schedule")
            .get(pk=payment_id)
        )
    except Payment.DoesNotExist:
        raise Http404 from None


def counters_for(user: User) -> QuerySet[Counter]:
    # Each counter's label names its office (Counter.__str__): read it with the counter.
    return policy.restrict(Counter.objects.select_related("office"), user)


def daily_closes_for(user: User) -> QuerySet[DailyClose]:
    return policy.restrict(DailyClose.objects.select_related("counter", "closed_by"), user)


@dataclass(frozen=True)
class ScheduleView:
    schedule: FeeSchedule
    amounts: list[tuple[FeeRow, int]]
    ends_on: date | None
    in_force: bool


def fee_schedules(*, today: date) -> list[ScheduleView]:
    """Every schedule with its amounts and the day it stopped (or stops) applying."""
    schedules = list(
        FeeSchedule.objects.select_related("created_by")
        .prefetch_related("amounts")
        .order_by("starts_on", "created_at")
    )
    # Of schedules sharing a start date the later one wins (FeeSchedule docstring).
    effective: dict[date, FeeSchedule] = {}
    for schedule in schedules:
        effective[schedule.starts_on] = schedule
    starts = sorted(effective)
    in_force_start = max((start for start in starts if start <= today), default=None)
    views = []
    for schedule in reversed(schedules):
        position = starts.index(schedule.starts_on)
        superseded = effective[schedule.starts_on] is not schedule
        next_start = starts[position + 1] if position + 1 < len(starts) else None
        amounts = {FeeRow(amount.row): amount.amount_yen for amount in schedule.amounts.all()}
        views.append(
            ScheduleView(
                schedule=schedule,
                amounts=[(row, amounts.get(row, 0)) for row in FeeRow],
                ends_on=schedule.starts_on if superseded else next_start,
                in_force=not superseded and schedule.starts_on == in_force_start,
            )
        )
    return views
