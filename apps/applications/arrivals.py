"""Import of the card-arrival file from J-LIS (R-ISS-1: the card has reached the city).

File layout (カード到着データ)
--------------------------------
- Encoding UTF-8 (a leading byte-order mark is accepted), lines end in LF or CRLF.
- CSV (RFC 4180), comma separated. Values need no quoting; a quoted value may not contain a
  line break (line numbers in error messages count physical lines).
- The first line is exactly the header ``card_id,issued_on,arrived_on``.
- One line per card, three columns:

  =============  ==========================================================================
  ``card_id``    the order reference Madoguchi sent with the order: the card's id (UUID,
                 36 characters, as shown on the application page). J-LIS echoes it back.
  ``issued_on``  the day J-LIS made the card, ``YYYY-MM-DD`` (R-VAL-1: the card's issue date,
                 from which its expiry is computed with apps.cards.rules.card_expiry).
  ``arrived_on`` the day the card reached the office, ``YYYY-MM-DD``; not before
                 ``issued_on`` and not after the import day.
  =============  ==========================================================================

  Example::

      card_id,issued_on,arrived_on
      0b0c5b43-5d7e-4c1b-9f43-1b1f0b7f2a10,2026-11-20,2026-11-26

- A file holds the cards delivered to one office; it is imported by a member of staff of that
  office. Cards of other offices' residents are reported as unknown, like any unknown id.

- At most ``ARRIVALS_MAX_BYTES`` (settings; 16 MiB by default, about 270,000 lines). No NUL
  byte (a file with one is not text: it is reported as such, with its line).

What the import guarantees
--------------------------
- The upload is checked at once (size, NUL bytes, encoding, header) and then imported by a
  Celery task (``applications.import_arrivals``, the import's id only): a 100,000-line file
  takes seconds, and a request must not hold a worker that long. The page follows the task
  with a progress bar; without Redis (``make run``) the task runs in the request, after the
  commit.
- All or nothing: any bad line stops the import, the error names the line (the header is line
  1) and nothing of the file is applied. Up to ``MAX_REPORTED_ERRORS`` problems are listed.
- Idempotent, per office: the file's SHA-256 is recorded (ArrivalImport); the same bytes
  uploaded again by the same office create and change nothing. Another office's import of the
  same bytes is its own, and neither sees the other. A line for a card that has already
  arrived with the same dates is counted as "already recorded", so a corrected re-send that
  repeats lines is harmless too. A task delivered twice runs once (the import is claimed).
- Each card moves ORDERED → ARRIVED through ``apps.cards.services.cards_arrive_bulk`` (its
  issue date, arrival date and the expiry from ``card_expiry``, R-VAL-1…6, exactly as
  ``card_arrive`` would); the application waiting for it moves ORDERED → ARRIVED. History
  rows are written by the pghistory triggers, one per changed row, naming the file and the
  member of staff who uploaded it.
- After the commit, a Celery task creates the pickup notices (R-ISS-1, apps.notices; one per
  card, however often it runs).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.applications.models import Application, ArrivalImport, ArrivalUpload
from apps.applications.rules import ApplicationState
from apps.cards.services import (
    CardArrival,
    CardArrivalProblem,
    CardArrivalsRefused,
    cards_arrive_bulk,
)
from apps.core import jobs
from apps.core.service import service

logger = logging.getLogger(__name__)

HEADER = "card_id,issued_on,arrived_on"
MAX_REPORTED_ERRORS = 20
_BOM = b"\xef\xbb\xbf"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A claimed import whose worker died is claimable again after this long.
RUNNING_STALE_AFTER = timedelta(minutes=30)
# Rows per UPDATE of the applications (progress is reported between them).
_APPLICATION_CHUNK = 5_000
_S = ArrivalImport.State


class ArrivalFileError(ValidationError):
    """The file was refused; ``problems`` are (line number, message), line 1 being the header."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        self.problems = problems
        messages = [
            (f"{line}行目: {text}" if line is not None else text) for line, text in problems
        ]
        super().__init__(
            ["取込を中止しました。ファイルの内容は一切反映されていません。", *messages]
        )


@dataclass(frozen=True)
class ArrivalImportResult:
    record: ArrivalImport
    created: bool  # False: this exact file had been imported before; nothing was changed
    applied_card_ids: tuple[uuid.UUID, ...] = ()


def max_bytes() -> int:
    return int(settings.ARRIVALS_MAX_BYTES)


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size:,} バイト"


def too_large_message() -> str:
    return (
        f"ファイルが大きすぎます（上限 {_size_text(max_bytes())}）。"
        "ファイルを分けて、一つずつ取り込んでください。"
    )


# --- the file ---------------------------------------------------------------------------------


def check_file(content: bytes) -> str:
    """The checks made at once, on upload: size, NUL bytes, encoding, header. The text back."""
    if len(content) > max_bytes():
        raise ArrivalFileError([(None, too_large_message())])
    nul = content.find(b"\x00")
    if nul >= 0:
        line = content.count(b"\n", 0, nul) + 1
        raise ArrivalFileError(
            [
                (
                    line,
                    "NUL文字（0x00）が含まれています。CSVのテキストファイルではないか、"
                    "壊れている可能性があります。J-LISから受け取ったファイルを確かめてください。",
                )
            ]
        )
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ArrivalFileError(
            [(line, "文字コードがUTF-8ではありません（Shift_JIS等で保存されていませんか）。")]
        ) from None
    first, _, rest = text.partition("\n")
    if first.strip() != HEADER:
        raise ArrivalFileError([(1, f"1行目は見出し「{HEADER}」にしてください。")])
    if not rest.strip():
        raise ArrivalFileError([(None, "データ行がありません。")])
    return text


def _date(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.year >= 1900 else None


def parse_lines(text: str, *, today: date) -> list[tuple[int, CardArrival]]:
    """Every data line as (line number, arrival); the first problem of each line refuses all.

    Checks the line itself: three columns, a card id, real dates, arrival not before issue
    and not after ``today``, no card twice. Whether the card may arrive is cards' to say.
    """
    rows: list[tuple[int, CardArrival]] = []
    problems: list[tuple[int | None, str]] = []
    first_line: dict[uuid.UUID, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)  # the header, checked by check_file
    for values in reader:
        line = reader.line_num
        if not values or values == [""]:
            continue  # a blank line (a trailing one, usually)
        problem = None
        if len(values) != 3:
            problem = "列の数が3つ（card_id, issued_on, arrived_on）ではありません。"
        else:
            raw_id, raw_issued, raw_arrived = (value.strip() for value in values)
            issued, arrived = _date(raw_issued), _date(raw_arrived)
            if not _UUID.match(raw_id):
                problem = "card_id がカードのID（UUID）の形式ではありません。"
            elif issued is None:
                problem = "issued_on が正しい日付（YYYY-MM-DD）ではありません。"
            elif arrived is None:
                problem = "arrived_on が正しい日付（YYYY-MM-DD）ではありません。"
            elif arrived < issued:
                problem = "arrived_on（到着日）が issued_on（発行日）より前です。"
            elif arrived > today:
                problem = "arrived_on（到着日）が取込日より後の日付です。"
            else:
                card_id = uuid.UUID(raw_id)
                if card_id in first_line:
                    earlier = first_line[card_id]
                    problem = f"同じ card_id がファイル内に複数あります（{earlier}行目と同じ）。"
                else:
                    first_line[card_id] = line
                    rows.append((line, CardArrival(card_id, issued, arrived)))
        if problem:
            problems.append((line, problem))
            if len(problems) >= MAX_REPORTED_ERRORS:
                break
    if problems:
        raise ArrivalFileError(problems)
    if not rows:
        raise ArrivalFileError([(None, "データ行がありません。")])
    return rows


def _card_problem_text(problem: CardArrivalProblem) -> str:
    if problem.code == "unknown":
        return "card_id に該当する、この庁舎で発注中のカードがありません。"
    if problem.code == "arrived_other_dates":
        return "このカードは別の発行日・到着日で到着済として記録されています。"
    if problem.code == "expiry":
        return f"有効期限を計算できません：{problem.detail}"
    label = problem.state.label if problem.state else "不明"
    return f"このカードは「{label}」のため、到着を記録できません。"


# --- upload ------------------------------------------------------------------------------------


@service
def arrival_import_submit(
    *,
    acting_user: User,
    content: bytes,
    filename: str,
    on: date | None = None,
    enqueue: bool = True,
) -> ArrivalImportResult:
    """Take an uploaded arrivals file: check it at once, record it, queue its import.

    The same bytes from the same office return the import already recorded (queued, running
    or done; a failed one may be tried again). ``enqueue`` False leaves the run to the caller
    (``arrivals_import`` runs it in-process).
    """
    policy.check(policy.resident_staff(acting_user))
    check_file(content)
    digest = hashlib.sha256(content).hexdigest()
    office_id = acting_user.office_id
    if office_id is None:  # resident staff have an office (policy); said for the type checker
        raise PermissionDenied
    earlier = _earlier(office_id=office_id, digest=digest)
    if earlier is not None:
        return ArrivalImportResult(record=earlier, created=False)
    try:
        with transaction.atomic():
            record = ArrivalImport.objects.create(
                sha256=digest,
                filename=(filename or "arrivals.csv")[:255],
                size_bytes=len(content),
                office_id=office_id,
                imported_by=acting_user,
                imported_at=timezone.now(),
                imported_on=on or timezone.localdate(),
                state=_S.QUEUED,
            )
            ArrivalUpload.objects.create(arrival_import=record, content=content)
            if enqueue:
                record_id = str(record.pk)
                transaction.on_commit(lambda: _enqueue_import(record_id))
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint != "arrivalimport_once_per_office":
            raise
        # The same file, uploaded at the same moment: the first upload has it.
        earlier = _earlier(office_id=office_id, digest=digest)
        if earlier is None:  # pragma: no cover - the row that conflicted is committed
            raise
        return ArrivalImportResult(record=earlier, created=False)
    return ArrivalImportResult(record=record, created=True)


def _earlier(*, office_id: uuid.UUID, digest: str) -> ArrivalImport | None:
    return (
        ArrivalImport.objects.filter(office_id=office_id, sha256=digest)
        .exclude(state=_S.FAILED)
        .first()
    )


def imports_queued() -> list[uuid.UUID]:
    """Imports waiting for their run (their message lost while the broker was down)."""
    return list(
        ArrivalImport.objects.filter(state=ArrivalImport.State.QUEUED).values_list("pk", flat=True)
    )


def _enqueue_import(record_id: str) -> None:
    from apps.applications.tasks import import_arrivals_task

    # Redis down: the import stays queued and the resume sweep sends it (apps.core.jobs).
    jobs.enqueue(import_arrivals_task, record_id)


# --- the run -----------------------------------------------------------------------------------


class _ProgressWriter:
    """Writes the import's progress through a connection of its own, so the page sees it
    while the import's transaction is still open. Never blocks the import: a write that
    would wait for a lock (the import run inside someone else's transaction) turns it off."""

    # Seconds between two writes (the page asks once a second).
    min_interval = 0.5

    def __init__(self, import_id: uuid.UUID, *, enabled: bool) -> None:
        self.import_id = import_id
        self.enabled = enabled
        self.connection: Any = None
        self.last = 0.0

    def __call__(self, percent: int, phase: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < self.min_interval:
            return
        self.last = now
        try:
            if self.connection is None:
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '1s'")
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ArrivalImport._meta.db_table} SET progress_percent = %s, "  # noqa: S608 - table name from the model
                    "progress_phase = %s WHERE id = %s AND state = %s",
                    [min(max(percent, 0), 100), phase, self.import_id, _S.RUNNING.value],
                )
        except Exception:  # a progress bar is never worth failing the import for
            logger.warning("arrivals import %s: progress not written", self.import_id)
            self.enabled = False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass(frozen=True)
class ArrivalRun:
    record: ArrivalImport
    applied_card_ids: tuple[uuid.UUID, ...] = ()


def arrival_import_run(*, import_id: uuid.UUID) -> ArrivalRun | None:
    """Import a queued file (the Celery task's body). None if it is not this run's to do.

    Claiming is one conditional UPDATE, so a task delivered twice imports once; an import
    whose worker died is claimable again after ``RUNNING_STALE_AFTER``. All or nothing: a
    refused file is recorded as failed with its problems, nothing of it applied.
    """
    now = timezone.now()
    claimed = (
        ArrivalImport.objects.filter(pk=import_id)
        .filter(Q(state=_S.QUEUED) | Q(state=_S.RUNNING, started_at__lt=now - RUNNING_STALE_AFTER))
        .update(
            state=_S.RUNNING,
            started_at=now,
            progress_percent=0,
            progress_phase="検査",
            problems=[],
        )
    )
    if not claimed:
        return None
    record = ArrivalImport.objects.select_related("imported_by").get(pk=import_id)
    content = ArrivalUpload.objects.filter(pk=import_id).values_list("content", flat=True).first()
    if content is None:
        _fail(import_id, [(None, "ファイルの内容が見つかりません。もう一度取り込んでください。")])
        return ArrivalRun(record=ArrivalImport.objects.get(pk=import_id))
    # Progress goes through a second connection only when this run owns its transaction.
    progress = _ProgressWriter(import_id, enabled=not connection.in_atomic_block)
    try:
        # Every card and application moved names the file (and, through the service, the
        # member of staff who uploaded it).
        with pghistory.context(arrivals_import=record.sha256):
            moved = arrivals_apply(
                acting_user=record.imported_by,
                record=record,
                content=bytes(content),
                progress=progress,
            )
    except ArrivalFileError as exc:
        progress.close()
        _fail(import_id, exc.problems)
        return ArrivalRun(record=ArrivalImport.objects.get(pk=import_id))
    except Exception:
        progress.close()
        # Only ids: a message could quote the file.
        logger.exception("arrivals import %s failed", import_id)
        _fail(
            import_id,
            [
                (
                    None,
                    "取込中に予期しないエラーが発生しました。時間をおいて取り込み直してください。",
                )
            ],
        )
        raise
    progress.close()
    return ArrivalRun(record=ArrivalImport.objects.get(pk=import_id), applied_card_ids=moved)


@service
def arrivals_apply(
    *, acting_user: User, record: ArrivalImport, content: bytes, progress: _ProgressWriter
) -> tuple[uuid.UUID, ...]:
    """The import's one transaction, acting for the member of staff who uploaded the file."""
    rows = parse_lines(check_file(content), today=record.imported_on)
    progress(10, "カードの照合", force=True)

    def cards_progress(phase: str, done: int, total: int) -> None:
        if phase == "check":
            progress(20, "カードの到着の記録", force=True)
        else:
            progress(20 + 40 * done // max(total, 1), "カードの到着の記録")

    try:
        arrived = cards_arrive_bulk(
            acting_user=acting_user,
            office_id=record.office_id,
            arrivals=[arrival for _, arrival in rows],
            progress=cards_progress,
            max_problems=MAX_REPORTED_ERRORS,
        )
    except CardArrivalsRefused as exc:
        raise ArrivalFileError(
            [(rows[problem.index][0], _card_problem_text(problem)) for problem in exc.problems]
        ) from None
    moved = arrived.moved
    now = timezone.now()
    table = f"arrivals_moved_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        # A join on a numbered temp table: chunks by range, each an index lookup per row.
        cursor.execute(
            f"CREATE TEMP TABLE {table} (seq integer PRIMARY KEY, card_id uuid NOT NULL) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY {table} (seq, card_id) FROM STDIN") as copy:
            for seq, card_id in enumerate(moved):
                copy.write_row((seq, card_id))
        cursor.execute(f"ANALYZE {table}")
        for start in range(0, len(moved), _APPLICATION_CHUNK):
            cursor.execute(
                f"UPDATE {Application._meta.db_table} a SET state = %s, arrived_at = %s, "  # noqa: S608 - table names from the model and ours
                f"updated_at = %s FROM {table} m WHERE m.seq >= %s AND m.seq < %s "
                "AND a.new_card_id = m.card_id AND a.state = %s",
                [
                    ApplicationState.ARRIVED.value,
                    now,
                    now,
                    start,
                    start + _APPLICATION_CHUNK,
                    ApplicationState.ORDERED.value,
                ],
            )
            done = min(start + _APPLICATION_CHUNK, len(moved))
            progress(60 + 40 * done // max(len(moved), 1), "申請の更新")
        cursor.execute(f"DROP TABLE {table}")
    # The last progress write comes before this row is written in the import's transaction.
    progress(100, "完了", force=True)
    ArrivalImport.objects.filter(pk=record.pk).update(
        state=_S.DONE,
        progress_percent=100,
        progress_phase="完了",
        finished_at=timezone.now(),
        row_count=len(rows),
        applied_count=len(moved),
        already_count=arrived.already,
    )
    ArrivalUpload.objects.filter(pk=record.pk).delete()
    if moved:
        on = record.imported_on.isoformat()
        transaction.on_commit(lambda: _pickup_notices(on))
    return moved


def _pickup_notices(on: str) -> None:
    """R-ISS-1: after the arrivals commit, the notices app makes the pickup notices."""
    from apps.notices.tasks import pickup_notices_for_arrivals_task

    # Redis down: the daily notice run makes the missing pickup notices (R-NOT-2).
    jobs.enqueue(pickup_notices_for_arrivals_task, on)


def _fail(import_id: uuid.UUID, problems: list[tuple[int | None, str]]) -> None:
    ArrivalImport.objects.filter(pk=import_id).update(
        state=_S.FAILED,
        finished_at=timezone.now(),
        progress_phase="中止",
        problems=[[line, text] for line, text in problems],
    )
    ArrivalUpload.objects.filter(pk=import_id).delete()


# --- in one go (demo data, tests, the benchmark) ------------------------------------------------


def arrivals_import(
    *, acting_user: User, content: bytes, filename: str, on: date | None = None
) -> ArrivalImportResult:
    """Upload and import in this process: the same steps as the screen and its task.

    Raises ArrivalFileError when the file is refused (the import is then recorded as failed).
    """
    submitted = arrival_import_submit(
        acting_user=acting_user, content=content, filename=filename, on=on, enqueue=False
    )
    if not submitted.created:
        return submitted
    run = arrival_import_run(import_id=submitted.record.pk)
    if run is None:  # pragma: no cover - claimed by nobody else: it was created just now
        raise ValidationError("取込を開始できませんでした。")
    if run.record.state == _S.FAILED:
        raise ArrivalFileError([(line, text) for line, text in run.record.problems])
    return ArrivalImportResult(
        record=run.record, created=True, applied_card_ids=run.applied_card_ids
    )
