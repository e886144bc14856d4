from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.accounts.models import User
from apps.audit.models import AccessLog, Action, Purpose
from apps.residents.models import Resident


def access_log_record(
    *,
    actor: User,
    action: Action,
    resident: Resident | None = None,
    purpose: Purpose | str = "",
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AccessLog:
    """Append one row. Callers call it inside their own transaction, so the look and its
    record commit together or not at all."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("access_log_record must run inside the caller's transaction")
    return AccessLog.objects.create(
        actor=actor,
        office_id=actor.office_id,
        resident=resident,
        action=action,
        purpose=purpose,
        detail=detail or {},
        ip_address=ip_address,
    )
