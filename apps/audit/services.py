from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.accounts.models import User
from apps.audit.models import AccessLog, Action, Outcome, Purpose
from apps.residents.models import Resident


def access_log_record(
    *,
    actor: User | None,
    action: Action,
    resident: Resident | None = None,
    purpose: Purpose | str = "",
    outcome: Outcome = Outcome.OK,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
    counter_id: Any = None,
    device_id: Any = None,
) -> AccessLog:
    """Append one row (R-AUD-1). Callers call it inside their own transaction, so the look and
    its record commit together or not at all.

    The database numbers, timestamps and chains the row (R-AUD-2); the returned instance
    carries those values. Office and counter default to the actor's.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("access_log_record must run inside the caller's transaction")
    return AccessLog.objects.create(
        actor=actor,
        office_id=actor.office_id if actor is not None else None,
        counter_id=counter_id if counter_id is not None else getattr(actor, "counter_id", None),
        device_id=device_id,
        resident=resident,
        action=action,
        purpose=purpose,
        outcome=outcome,
        detail=detail or {},
        ip_address=ip_address,
    )
