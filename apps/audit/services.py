from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AccessLog, Action, Alert, Outcome, Purpose
from apps.core.service import service
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


logger = logging.getLogger(__name__)


def access_log_view(
    request: Any,
    *,
    action: Action,
    resident: Resident | None = None,
    outcome: Outcome = Outcome.OK,
    detail: dict[str, Any] | None = None,
) -> AccessLog:
    """The row of one page or file with personal data that `request.user` was shown (R-AUD-1),
    in the caller's transaction when there is one."""
    with transaction.atomic():
        return access_log_record(
            actor=request.user,
            action=action,
            resident=resident,
            outcome=outcome,
            detail=detail,
            ip_address=request.META.get("REMOTE_ADDR"),
        )


@service
def alert_raise(*, acting_user: User, kind: str, actor: User, detail: dict[str, Any]) -> Alert:
    """Alert the supervisors of `actor`'s office (and the auditor), once an hour per kind."""
    since = timezone.now() - timedelta(hours=1)
    existing = Alert.objects.filter(kind=kind, actor=actor, at__gte=since).first()
    if existing is not None:
        return existing
    alert = Alert.objects.create(kind=kind, actor=actor, office_id=actor.office_id, detail=detail)
    logger.warning("security alert", extra={"alert": kind, "actor": str(actor.pk)})
    return alert


@service
def alert_acknowledge(*, acting_user: User, alert: Alert) -> Alert:
    from apps.accounts import policy

    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    policy.check(policy.may_acknowledge_alert(acting_user, alert))
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = acting_user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert
