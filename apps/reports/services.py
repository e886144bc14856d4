"""The one write of the reports app: the notice reconciliation (R-NOT-4).

J-LIS posts the national expiry notices itself; the city's letter is the second line. A
supervisor imports J-LIS's list of what it posted in a month (the layout:
``apps.reports.rules.parse_posted_notices`` and docs/reports.md); the import compares it with
the holders of the supervisor's office whose notice fell due that month, records who is
missing, and writes the city's letter to each of them through the notices app, once (the
notices' unique index per card, kind and expiry; a second import of the same file for the same
office and month is refused by ``reconciliation_once_per_file`` and shows the first result).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.cards.models import CURRENT_STATES, Card
from apps.certificates.models import Certificate, CertificateState
from apps.core.service import service
from apps.notices import job
from apps.notices.services import city_expiry_letters_create
from apps.reports.models import NoticeReconciliation, ReconciliationMissing
from apps.reports.rules import due_expiries, parse_posted_notices
from apps.residents.models import Resident

MAX_UPLOAD_BYTES = 16 * 1024 * 1024

Event = tuple[str, uuid.UUID, date]  # (kind: "card" | "certificate", card id, expiry)


@dataclass(frozen=True)
class ReconcileResult:
    record: NoticeReconciliation
    created: bool  # False: this file had been imported for the office and month before


def _earlier(*, office_id: uuid.UUID, month: date, digest: str) -> NoticeReconciliation | None:
    return NoticeReconciliation.objects.filter(
        office_id=office_id, month=month, sha256=digest
    ).first()


def due_events(*, office_id: uuid.UUID, month: date) -> dict[tuple[str, str, date], uuid.UUID]:
    """The national notices due in ``month`` for the office's holders (R-NOT-1, R-NOT-3):
    ``(resident code, kind, expiry) → card id``.

    Card expiries of current cards, except foreign residents' cards that end with the stay
    (J-LIS sends those holders nothing; the city's reminder is theirs, R-NOT-3); certificate
    expiries before their card's (one event per card and day, as the letters count them).
    """
    first, last = due_expiries(month)
    stay_ids, _ = job.classify_foreign(window=(first, last))
    cards = (
        Card.objects.filter(
            office_id=office_id,
            state__in=CURRENT_STATES,
            expires_on__gte=first,
            expires_on__lte=last,
        )
        .exclude(pk__in=stay_ids)
        .values_list("resident__resident_code", "expires_on", "pk")
    )
    due: dict[tuple[str, str, date], uuid.UUID] = {
        (code, "card", expires_on): card_id
        for code, expires_on, card_id in cards
        if expires_on is not None  # a current card has its dates (card_made_cards_have_dates)
    }
    certificates = (
        Certificate.objects.filter(
            state=CertificateState.ACTIVE,
            expires_on__gte=first,
            expires_on__lte=last,
            expires_on__lt=F("card__expires_on"),
            card__office_id=office_id,
            card__state__in=CURRENT_STATES,
        )
        .values_list("card__resident__resident_code", "expires_on", "card_id")
        .distinct()
    )
    for code, expires_on, card_id in certificates:
        due[(code, "certificate", expires_on)] = card_id
    return due


@service
def notices_reconcile(
    *, acting_user: User, month: date, content: bytes, filename: str, on: date | None = None
) -> ReconcileResult:
    """Import J-LIS's posted-notices list of ``month`` for the user's office and write the
    city's letter to every holder due that month whom it does not name (R-NOT-4)."""
    policy.check(policy.may_reconcile_notices(acting_user), policy.SUPERVISORS_ONLY)
    office_id = acting_user.office_id
    if office_id is None:  # a supervisor has an office (policy); said for the type checker
        raise PermissionDenied
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError("ファイルが大きすぎます（16MBまで）。")
    month = month.replace(day=1)
    digest = hashlib.sha256(content).hexdigest()
    earlier = _earlier(office_id=office_id, month=month, digest=digest)
    if earlier is not None:
        return ReconcileResult(record=earlier, created=False)
    parsed = parse_posted_notices(content, month=month)
    if parsed.problems:
        raise ValidationError(
            [
                f"{line}行目: {message}" if line is not None else message
                for line, message in parsed.problems
            ]
        )
    try:
        with transaction.atomic():
            record = NoticeReconciliation.objects.create(
                office_id=office_id,
                month=month,
                sha256=digest,
                filename=(filename or "jlis.csv")[:255],
                imported_by=acting_user,
                imported_at=timezone.now(),
            )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint != "reconciliation_once_per_file":
            raise
        # The same file at the same moment: the first import has it (and wrote the letters).
        earlier = _earlier(office_id=office_id, month=month, digest=digest)
        if earlier is None:  # pragma: no cover - the row that conflicted is committed
            raise
        return ReconcileResult(record=earlier, created=False)

    due = due_events(office_id=office_id, month=month)
    codes = {row.resident_code for row in parsed.rows}
    ours = set(
        Resident.objects.filter(office_id=office_id, resident_code__in=codes).values_list(
            "resident_code", flat=True
        )
    )
    listed = {(row.resident_code, row.kind, row.expires_on) for row in parsed.rows}
    listed_here = {key for key in listed if key[0] in ours}
    missing = sorted(set(due) - listed_here)
    ReconciliationMissing.objects.bulk_create(
        [
            ReconciliationMissing(
                reconciliation=record, card_id=due[key], kind=key[1], expires_on=key[2]
            )
            for key in missing
        ]
    )
    events: list[Event] = [
        (kind, due[(code, kind, expires_on)], expires_on) for code, kind, expires_on in missing
    ]
    created = city_expiry_letters_create(
        acting_user=acting_user, on=on or timezone.localdate(), events=events
    )
    record.listed_count = len(listed_here)
    record.other_office_count = len(listed) - len(listed_here)
    record.due_count = len(due)
    record.missing_count = len(missing)
    record.extra_count = len(listed_here - set(due))
    record.letters_created = sum(created.values())
    record.save(
        update_fields=[
            "listed_count",
            "other_office_count",
            "due_count",
            "missing_count",
            "extra_count",
            "letters_created",
        ]
    )
    return ReconcileResult(record=record, created=True)
