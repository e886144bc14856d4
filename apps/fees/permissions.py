"""Role checks for fee work. Scoping of rows is the selectors' job."""

from __future__ import annotations

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role

# Approving waivers (R-REI-3), voiding receipts and adding fee schedules.
supervisor_required = role_required(
    lambda user: user.is_active and user.role == Role.SUPERVISOR and user.office_id is not None
)
