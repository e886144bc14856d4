"""Role checks for fee work. Scoping of rows is the selectors' job.

Named predicates, so that the services, the views, the API and the templates ask the same
question (they move to apps.accounts.policy with the other role rules).
"""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Counter, User
from apps.accounts.permissions import role_required
from apps.accounts.roles import Role


def is_office_supervisor(user: Any) -> bool:
    """A supervisor of an office: approves waivers (R-REI-3), voids receipts, adds fee
    schedules, closes any counter of the office and reopens its closes."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role == Role.SUPERVISOR
        and user.office_id is not None
    )


def may_close_counter(user: User, counter: Counter) -> bool:
    """A clerk closes their own counter's day; a supervisor any counter of their office."""
    if not user.works_with_residents or user.office_id is None:
        return False
    if counter.office_id != user.office_id:
        return False
    if is_office_supervisor(user):
        return True
    return user.counter_id is not None and counter.pk == user.counter_id


def may_reopen_close(user: User) -> bool:
    """Reopening a counter's close (so that a correction can be made) is a supervisor's."""
    return is_office_supervisor(user)


def may_void_payment(user: User) -> bool:
    return is_office_supervisor(user)


# Approving waivers (R-REI-3), voiding receipts and adding fee schedules.
supervisor_required = role_required(is_office_supervisor)
