"""Helpers for application tests: receive through the real service, write arrival files."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from apps.accounts.models import User
from apps.applications.arrivals import HEADER, ArrivalImportResult, arrivals_import
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, IdentityDocument
from apps.applications.services import ApplicationInput, application_receive
from apps.residents.models import Resident

LICENSE = frozenset({IdentityDocument.DRIVERS_LICENSE})


def receive(
    user: User, resident: Resident, kind: ApplicationKind, *, on: date | None = None, **fields: Any
) -> Application:
    fields.setdefault("documents", LICENSE)
    return application_receive(
        acting_user=user, resident=resident, data=ApplicationInput(kind=kind, **fields), on=on
    )


def arrivals_csv(rows: Iterable[tuple[object, object, object]], *, crlf: bool = False) -> bytes:
    end = "\r\n" if crlf else "\n"
    lines = [HEADER, *(f"{card_id},{issued},{arrived}" for card_id, issued, arrived in rows)]
    return (end.join(lines) + end).encode()


def arrive(
    user: User,
    application: Application,
    *,
    issued_on: date,
    arrived_on: date | None = None,
    on: date | None = None,
) -> ArrivalImportResult:
    """Import a one-line arrivals file for the application's card (unique bytes each time)."""
    assert application.new_card_id is not None
    content = arrivals_csv([(application.new_card_id, issued_on, arrived_on or issued_on)])
    return arrivals_import(
        acting_user=user,
        content=content,
        filename=f"arrivals-{uuid.uuid4().hex[:8]}.csv",
        on=on or (arrived_on or issued_on),
    )


def birthday_card_dates(target_expiry: date) -> dict[str, date]:
    """Birth, application and issue dates giving an adult card that expires on ``target_expiry``.

    Issued the day after the 30th birthday: the first birthday "after" is a year later, so the
    10th is ``target_expiry`` (R-VAL-2, R-VAL-4). Avoids 29 February.
    """
    if (target_expiry.month, target_expiry.day) == (2, 29):
        target_expiry -= timedelta(days=1)
    birth = target_expiry.replace(year=target_expiry.year - 40)
    issued = target_expiry.replace(year=target_expiry.year - 10) + timedelta(days=1)
    return {"birth_date": birth, "issued_on": issued, "applied_on": issued - timedelta(days=20)}
