"""What waits for each role on its home page. Reads only; scoped like every selector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, QuerySet

from apps.accounts import policy
from apps.accounts.models import Counter, User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.rules import AGE_BANDS, OPEN_STATES
from apps.applications.selectors import applications_for, cards_waiting_for
from apps.counters.models import Device, DeviceState
from apps.fees.models import DailyClose
from apps.fees.selectors import counters_for, daily_closes_for

# A home page shows how many; past this it says "this many or more" (no count of a big stock).
COUNT_CAP = 999


@dataclass(frozen=True)
class Capped:
    count: int
    more: bool  # there are more than ``count``


def _capped(queryset: QuerySet[Any]) -> Capped:
    count = queryset[: COUNT_CAP + 1].count()
    return Capped(count=min(count, COUNT_CAP), more=count > COUNT_CAP)


@dataclass(frozen=True)
class WaiverWaiting:
    application: Application
    may_approve: bool  # False for the supervisor who asked for it (four eyes)


@dataclass(frozen=True)
class CounterDay:
    counter: Counter
    close: DailyClose | None  # today's close that counts, None if not closed yet


@dataclass(frozen=True)
class SupervisorWaiting:
    """What waits for a supervisor today: waivers to approve, closes, uncollected cards."""

    today: date
    waivers: list[WaiverWaiting]
    counters: list[CounterDay]
    uncollected: list[tuple[str, Capped]]  # (age band, how many), oldest band first

    @property
    def closes_missing(self) -> int:
        return sum(1 for day in self.counters if day.close is None)

    @property
    def closes_with_difference(self) -> int:
        return sum(1 for day in self.counters if day.close is not None and day.close.has_difference)


def supervisor_waiting(*, user: User, today: date, waiver_limit: int = 20) -> SupervisorWaiting:
    waiting = (
        applications_for(user)
        .filter(state__in=OPEN_STATES, waiver__isnull=False, waiver__approved_by__isnull=True)
        .select_related("resident", "waiver", "waiver__requested_by")
        .order_by("received_at")[:waiver_limit]
    )
    waivers = [
        WaiverWaiting(
            application=application,
            may_approve=policy.may_approve_waiver(user, application.waiver),
        )
        for application in waiting
    ]
    closes = {
        close.counter_id: close
        for close in daily_closes_for(user).filter(business_date=today, reopened_at__isnull=True)
    }
    counters = [
        CounterDay(counter=counter, close=closes.get(counter.pk))
        for counter in counters_for(user).order_by("code")
    ]
    stock = cards_waiting_for(user)
    bands: list[tuple[str, Capped]] = []
    upper: date | None = None
    for threshold, label in AGE_BANDS:  # 90+, 30+, 0+: each band below the one before
        lower = today - timedelta(days=threshold)
        band = stock.filter(arrived_on__lte=lower)
        if upper is not None:
            band = band.filter(arrived_on__gt=upper)
        bands.append((label, _capped(band)))
        upper = lower
    return SupervisorWaiting(today=today, waivers=waivers, counters=counters, uncollected=bands)


@dataclass(frozen=True)
class AdminOverview:
    """What the system administrator looks after: staff and reader devices."""

    staff: list[tuple[str, int]]  # (role, how many active accounts)
    devices_pending: list[Device]
    devices_approved: int


def admin_overview() -> AdminOverview:
    counts = dict(
        User.objects.filter(is_active=True)
        .values_list("role")
        .annotate(count=Count("pk"))
        .values_list("role", "count")
    )
    return AdminOverview(
        staff=[(role.label, counts.get(role.value, 0)) for role in Role],
        devices_pending=list(
            Device.objects.filter(state=DeviceState.PENDING).order_by("enrolled_at")[:20]
        ),
        devices_approved=Device.objects.filter(state=DeviceState.APPROVED).count(),
    )
