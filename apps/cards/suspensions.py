"""The call centre's suspensions (R-SUS-1) and the lifting at the counter (R-SUS-2).

Every write here is a service (apps.core.service). The feed is idempotent by the call
centre's own record id: the same record twice changes nothing, a record that reuses an id
with other content is refused and reported (``SuspensionConflict``). The database backs it
(``suspensionreport_record_once``): the API and the CSV import, and two workers importing
one file at once, race on the insert and one row results.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.cards.models import Card, SuspensionFeedClient, SuspensionImport, SuspensionReport
from apps.cards.rules import (
    CardState,
    SuspensionReason,
    feed_record_fingerprint,
    feed_record_id_problem,
    lift_refusal,
)
from apps.cards.services import card_change_state
from apps.core.service import SystemActor, service
from apps.residents.models import Resident

logger = logging.getLogger(__name__)

IMPORT_JOB = SystemActor("cards.import_suspensions")
FEED_HEADER = ("record_id", "resident_code", "reported_at", "reason")
# The cards a suspension record may be about: in use, already suspended, or reported lost.
_SUSPENDABLE = (CardState.ACTIVE, CardState.SUSPENDED, CardState.LOST)
SUSPEND_REASON = "一時停止（コールセンター受付）"


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """One record of the call centre's feed (API body or CSV line)."""

    record_id: str
    resident_code: str
    reported_at: datetime
    reason: SuspensionReason

    @property
    def fingerprint(self) -> str:
        return feed_record_fingerprint(
            record_id=self.record_id,
            resident_code=self.resident_code,
            reported_at=self.reported_at,
            reason=self.reason,
        )


class FeedOutcome(enum.StrEnum):
    CREATED = "created"  # recorded now (and the card suspended if it was in use)
    REPEATED = "repeated"  # the same record had arrived before: nothing changed


class SuspensionConflict(ValidationError):
    """A record reuses a record id with other content: refused, nothing changed, reported."""

    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        super().__init__(
            f"受付番号 {record_id} は既に別の内容で記録されています。"
            "コールセンターに確認してください。"
        )


def _record_problems(record: FeedRecord) -> list[str]:
    problems = []
    problem = feed_record_id_problem(record.record_id)
    if problem:
        problems.append(problem)
    code = record.resident_code
    if not (len(code) == 11 and code.isascii() and code.isdigit()):
        problems.append("住民票コードは半角数字11桁です。")
    if record.reported_at.tzinfo is None:
        problems.append("受付日時にはタイムゾーンを含めてください。")
    elif record.reported_at > timezone.now() + timedelta(minutes=10):
        problems.append("受付日時が未来になっています。")
    return problems


def _compare(existing: SuspensionReport, record: FeedRecord) -> FeedOutcome:
    if existing.fingerprint != record.fingerprint:
        # Reported (logged by id only: the record id is not personal data) and refused.
        logger.warning("suspension feed conflict: record_id=%s", record.record_id)
        raise SuspensionConflict(record.record_id)
    return FeedOutcome.REPEATED


@service
def suspension_record_receive(
    *, acting_user: User | SystemActor, record: FeedRecord, source: str
) -> tuple[SuspensionReport, FeedOutcome]:
    """Record one call-centre suspension and suspend the card (R-SUS-1); idempotent.

    The card is locked before the record id is checked again: a second delivery that waited
    for the first one's lock sees its committed row and changes nothing. A card in use moves
    ACTIVE → SUSPENDED; one already suspended or reported lost keeps its state (the record
    is still kept, it is the call centre's word).
    """
    problems = _record_problems(record)
    if problems:
        raise ValidationError(problems)
    existing = SuspensionReport.objects.filter(record_id=record.record_id).first()
    if existing is not None:
        return existing, _compare(existing, record)
    resident = Resident.objects.filter(resident_code=record.resident_code).first()
    if resident is None:
        raise ValidationError("住民票コードに該当する住民がいません。")
    card = (
        Card.objects.select_for_update()
        .filter(resident=resident, state__in=_SUSPENDABLE)
        .order_by("-applied_on", "-created_at")
        .first()
    )
    if card is None:
        raise ValidationError("一時停止できるカード（交付済のカード）がありません。")
    # Decide on what is committed now that the card is ours.
    existing = SuspensionReport.objects.filter(record_id=record.record_id).first()
    if existing is not None:
        return existing, _compare(existing, record)
    try:
        with transaction.atomic():
            report = SuspensionReport.objects.create(
                record_id=record.record_id,
                fingerprint=record.fingerprint,
                resident=resident,
                card=card,
                reported_at=record.reported_at,
                reason=record.reason,
                source=source,
                suspended_card=card.state == CardState.ACTIVE,
            )
    except IntegrityError:
        # The same id committed meanwhile about another card (a record about this card
        # would have waited for the lock above).
        existing = SuspensionReport.objects.get(record_id=record.record_id)
        return existing, _compare(existing, record)
    if report.suspended_card:
        card_change_state(
            acting_user=acting_user,
            card=card,
            to_state=CardState.SUSPENDED,
            on=timezone.localdate(record.reported_at),
            reason=f"{SUSPEND_REASON}・{record.reason.label}",
        )
    return report, FeedOutcome.CREATED


@service
def card_lift_suspension(*, acting_user: User | SystemActor, card: Card, on: date) -> Card:
    """Lift a card's suspension: it is in use again (R-SUS-2).

    Refused when the cancellation (廃止) was already filed (VOID), and for any card that is
    not suspended or reported lost (``lift_refusal``). A found card reported lost goes back
    into use only here, through SUSPENDED (the one edge back into use, R-SUS-2); its loss
    record (ended_on, end_reason) is cleared. The counter's checks (the card read, identity)
    are the caller's: apps.counters.services.suspension_lift_at_counter.
    """
    card = Card.objects.select_for_update().get(pk=card.pk)
    refusal = lift_refusal(CardState(card.state))
    if refusal:
        raise ValidationError(refusal)
    if card.state == CardState.LOST:
        card = card_change_state(
            acting_user=acting_user, card=card, to_state=CardState.SUSPENDED, on=on
        )
    if card.expires_on is not None and card.expires_on < on:
        raise ValidationError("有効期限を過ぎたカードは一時停止を解除できません。")
    card = card_change_state(acting_user=acting_user, card=card, to_state=CardState.ACTIVE, on=on)
    if card.ended_on is not None or card.end_reason:
        card.ended_on = None
        card.end_reason = ""
        card.save(update_fields=["ended_on", "end_reason", "updated_at"])
    return card


# --- the CSV import ---------------------------------------------------------------------------


def parse_feed_csv(content: bytes) -> list[tuple[int, FeedRecord | None, str]]:
    """Lines of a call-centre CSV: (line number, record or None, problem). Line 1 is the
    header ``record_id,resident_code,reported_at,reason``; UTF-8, with or without a BOM."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("ファイルの文字コードはUTF-8にしてください。") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise ValidationError(
            "CSVの形式が正しくありません（改行や引用符を確認してください）。"
        ) from None
    if not rows or tuple(cell.strip() for cell in rows[0]) != FEED_HEADER:
        raise ValidationError(f"1行目（見出し）は {','.join(FEED_HEADER)} にしてください。")
    lines: list[tuple[int, FeedRecord | None, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(FEED_HEADER):
            lines.append((number, None, "列の数が正しくありません。"))
            continue
        record_id, resident_code, reported_at, reason = (cell.strip() for cell in row)
        try:
            at = datetime.fromisoformat(reported_at)
        except ValueError:
            lines.append((number, None, "受付日時の形式が正しくありません（ISO 8601）。"))
            continue
        try:
            why = SuspensionReason(reason)
        except ValueError:
            lines.append((number, None, "理由は lost, stolen, other のいずれかです。"))
            continue
        lines.append(
            (
                number,
                FeedRecord(
                    record_id=record_id, resident_code=resident_code, reported_at=at, reason=why
                ),
                "",
            )
        )
    return lines


@service
def suspension_import_submit(
    *, acting_user: User, filename: str, content: bytes, enqueue: bool = True
) -> SuspensionImport:
    """Keep an uploaded call-centre CSV and hand it to a worker (``cards.import_suspensions``,
    the import's id only). The file is checked at once: a wrong header is refused here."""
    parse_feed_csv(content)
    record = SuspensionImport.objects.create(
        filename=filename[:255], content=content, uploaded_by=acting_user
    )
    if enqueue:
        from apps.cards.tasks import import_suspensions_task

        record_id = str(record.pk)
        transaction.on_commit(lambda: import_suspensions_task.delay(record_id))
    return record


@service(atomic=False)
def suspension_import_run(
    *, acting_user: SystemActor = IMPORT_JOB, import_id: uuid.UUID
) -> SuspensionImport:
    """Import the records of one CSV (R-SUS-1): each record on its own, as the API would take
    it, in the name of the member of staff who uploaded the file. Repeats change nothing;
    conflicts and unknown residents are refused and listed on the import. Safe to run twice,
    also at once on two workers: each record is kept once (``suspensionreport_record_once``).
    """
    record = SuspensionImport.objects.select_related("uploaded_by").get(pk=import_id)
    uploader = record.uploaded_by
    created = repeated = 0
    problems: list[list[object]] = []
    lines = parse_feed_csv(bytes(record.content))
    for number, feed, problem in lines:
        if feed is None:
            problems.append([number, "", problem])
            continue
        try:
            _, outcome = suspension_record_receive(acting_user=uploader, record=feed, source="csv")
        except ValidationError as exc:
            problems.append([number, feed.record_id, " ".join(exc.messages)])
            continue
        if outcome is FeedOutcome.CREATED:
            created += 1
        else:
            repeated += 1
    SuspensionImport.objects.filter(pk=record.pk).update(
        state=SuspensionImport.State.DONE,
        finished_at=timezone.now(),
        row_count=len(lines),
        created_count=created,
        repeated_count=repeated,
        problems=problems,
    )
    record.refresh_from_db()
    return record


# --- the call centre's machine client ---------------------------------------------------------

FEED_TOKEN_BYTES = 32


def feed_token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@service
def suspension_feed_client_create(
    *, acting_user: User | SystemActor, name: str
) -> tuple[SuspensionFeedClient, str]:
    """A credential for the call centre's feed (R-SUS-1), good for that endpoint alone;
    the token is returned once and only its SHA-256 is kept."""
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    client = SuspensionFeedClient.objects.create(
        name=name.strip()[:100], token_sha256=feed_token_sha256(token)
    )
    return client, token


def suspension_feed_client_authenticate(token: str) -> SuspensionFeedClient | None:
    """The active client whose token this is, or None (looked up by the token's hash: the
    database compares digests, never the token)."""
    if not token or len(token) > 200:
        return None
    client = SuspensionFeedClient.objects.filter(
        token_sha256=feed_token_sha256(token), active=True
    ).first()
    if client is not None:
        SuspensionFeedClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


def feed_actor(client: SuspensionFeedClient) -> SystemActor:
    """History rows of a feed delivery name the client."""
    return SystemActor(f"suspension_feed:{client.name}")
