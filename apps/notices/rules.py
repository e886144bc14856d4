"""Pure rules about expiry notices and the renewal window.

No Django, no database, no clock: every date is a parameter. Rule ids refer to
``../shared/DOMAIN.md``.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Final

from apps.cards.rules import add_months

__all__ = [
    "NOTICE_LEAD_MONTHS",
    "add_months",
    "latest_expiry_due_for_notice",
    "notice_due_on",
    "renewal_opens_on",
]

# R-NOT-1: "about 3 months before" the expiry of the card or of a certificate.
NOTICE_LEAD_MONTHS: Final = 3


def notice_due_on(expires_on: date) -> date:
    """The day an expiry notice becomes due: expiry minus 3 calendar months (R-NOT-1).

    Policy R-NOT-1: clamped to the end of a shorter month, so 2024-05-31 → 2024-02-29 and
    2025-05-31 → 2025-02-28. The same rule serves card and certificate expiries.
    """
    return add_months(expires_on, -NOTICE_LEAD_MONTHS)


def renewal_opens_on(expires_on: date) -> date:
    """The first day a renewal may be applied for: the day after :func:`notice_due_on` (R-NOT-1).

    2024-12-31 → 2024-10-01; 2024-03-15 → 2023-12-16. Renewal stays possible after the expiry
    (R-REI table), so there is no closing day.
    """
    return notice_due_on(expires_on) + timedelta(days=1)


def latest_expiry_due_for_notice(on: date) -> date:
    """The last expiry date whose notice is due on or before ``on`` (R-NOT-1).

    ``notice_due_on`` never decreases as the expiry moves later, so the expiries due for a
    notice on ``on`` are exactly those ``<= latest_expiry_due_for_notice(on)``: a range the
    notice job can scan by index. Plain ``on + 3 months`` is wrong at month ends: on
    2024-02-29 the expiries 2024-05-30 and 2024-05-31 are due too (both clamp to 29 Feb).
    """
    target = add_months(on, NOTICE_LEAD_MONTHS)
    if on.day == calendar.monthrange(on.year, on.month)[1]:
        # ``on`` is a month end: every later day of the target month clamps back onto it.
        return target.replace(day=calendar.monthrange(target.year, target.month)[1])
    return target
