"""What the administrator's home shows. Reads only. (The supervisor's home is apps.reports.)"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.counters.models import Device, DeviceState


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
