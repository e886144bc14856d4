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

What the import guarantees
--------------------------
- All or nothing: any bad line stops the import, the error names the line (the header is line
  1) and nothing of the file is applied. Up to ``MAX_REPORTED_ERRORS`` problems are listed.
- Idempotent: the file's SHA-256 is recorded (ArrivalImport); the same bytes imported again
  create and change nothing. A line for a card that has already arrived with the same dates is
  counted as "already recorded", so a corrected re-send that repeats lines is harmless too.
- Each card moves ORDERED → ARRIVED with its issue date, arrival date and the expiry from
  ``card_expiry`` (R-VAL-1…6), exactly as apps.cards.services.card_arrive would; the
  application waiting for it moves ORDERED → ARRIVED. History rows are written by the
  pghistory triggers, one per changed row.
- Set-based, for 100,000-line files: COPY into a temporary table, validate in SQL, compute the
  expiries in one pass in Python (the one place the validity rules live), COPY them back and
  UPDATE … FROM. After commit, pickup notices are created for the newly arrived cards if the
  notices app offers it.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pghistory
import psycopg
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.applications.models import Application, ArrivalImport
from apps.applications.rules import ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState, card_expiry
from apps.core.service import service
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory

logger = logging.getLogger(__name__)

HEADER = "card_id,issued_on,arrived_on"
MAX_REPORTED_ERRORS = 20
_BOM = b"\xef\xbb\xbf"
_UUID_RE = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_DATE_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


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


def _sql_valid_date(column: str) -> str:
    """A boolean SQL expression: ``column`` is a real calendar date in YYYY-MM-DD form.

    CASE evaluates in order, so the casts only run on text the regex let through and the
    check cannot raise (PostgreSQL 15 has no pg_input_is_valid).
    """
    year = f"substr({column}, 1, 4)::int"
    month = f"substr({column}, 6, 2)::int"
    day = f"substr({column}, 9, 2)::int"
    return (
        f"(CASE WHEN {column} IS NULL OR {column} !~ '{_DATE_RE}' THEN false "
        f"WHEN {year} < 1900 OR {month} NOT BETWEEN 1 AND 12 THEN false "
        f"ELSE {day} BETWEEN 1 AND extract(day FROM (make_date({year}, {month}, 1) "
        "+ interval '1 month' - interval '1 day'))::int END)"
    )


def _copy_error_line(exc: psycopg.Error) -> int | None:
    """PostgreSQL reports COPY format errors as 'COPY <table>, line N…' (header = line 1)."""
    context = getattr(getattr(exc, "diag", None), "context", None) or ""
    marker = ", line "
    if marker not in context:
        return None
    digits = ""
    for char in context.split(marker, 1)[1]:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def _residence(
    category: str, period_ends_on: date | None, event_on: date | None
) -> Residence | None:
    # Same as Resident.residence, on raw columns.
    if not category:
        return None
    return Residence(
        category=ResidenceCategory(category), period_ends_on=period_ends_on, event_on=event_on
    )


@service
def arrivals_import(
    *, acting_user: User, content: bytes, filename: str, on: date | None = None
) -> ArrivalImportResult:
    """Import one J-LIS arrivals file for the acting user's office (see the module docstring)."""
    policy.check(policy.resident_staff(acting_user))
    today = on or timezone.localdate()
    digest = hashlib.sha256(content).hexdigest()
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    try:
        text_head = content[:200].decode("utf-8", errors="strict").splitlines()
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise ArrivalFileError([(None, "文字コードがUTF-8ではありません。")]) from None
    if not text_head or text_head[0].strip() != HEADER:
        raise ArrivalFileError([(1, f"1行目は見出し「{HEADER}」にしてください。")])

    # The history rows of every card and application moved name the file that moved them.
    with pghistory.context(arrivals_import=digest):
        return _import(
            acting_user=acting_user,
            content=content,
            digest=digest,
            filename=filename[:255] or "arrivals.csv",
            today=today,
        )


def _import(
    *, acting_user: User, content: bytes, digest: str, filename: str, today: date
) -> ArrivalImportResult:
    office_id = acting_user.office_id
    import_id = uuid.uuid4()
    now = timezone.now()
    cards = Card._meta.db_table
    residents = Resident._meta.db_table
    applications = Application._meta.db_table
    imports = ArrivalImport._meta.db_table
    suffix = import_id.hex[:12]
    raw, ok, exp = f"arrivals_raw_{suffix}", f"arrivals_ok_{suffix}", f"arrivals_exp_{suffix}"

    with connection.cursor() as cursor:
        # Claim the file first: a concurrent import of the same bytes waits on the unique
        # index, then finds it taken and changes nothing.
        cursor.execute(
            f"INSERT INTO {imports} (id, sha256, filename, office_id, imported_by_id, "  # noqa: S608 - names from models
            "imported_at, imported_on, row_count, applied_count, already_count) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0, 0) ON CONFLICT (sha256) DO NOTHING "
            "RETURNING id",
            [import_id, digest, filename, office_id, acting_user.pk, now, today],
        )
        if cursor.fetchone() is None:
            return ArrivalImportResult(
                record=ArrivalImport.objects.get(sha256=digest), created=False
            )

        cursor.execute(
            f"CREATE TEMP TABLE {raw} (line_no bigint GENERATED ALWAYS AS IDENTITY, "
            "card_id text, issued_on text, arrived_on text) ON COMMIT DROP"
        )
        try:
            with cursor.cursor.copy(
                f"COPY {raw} (card_id, issued_on, arrived_on) FROM STDIN "
                "WITH (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write(content)
        except psycopg.Error as exc:
            line = _copy_error_line(exc)
            raise ArrivalFileError(
                [(line, "列の数が3つ（card_id, issued_on, arrived_on）ではありません。")]
            ) from None

        # The header is line 1, so the n-th data row is line n + 1.
        cursor.execute(
            f"SELECT line_no + 1, CASE "  # noqa: S608
            f"WHEN card_id IS NULL OR card_id !~ '{_UUID_RE}' THEN 'card_id' "
            f"WHEN NOT {_sql_valid_date('issued_on')} THEN 'issued_on' "
            f"WHEN NOT {_sql_valid_date('arrived_on')} THEN 'arrived_on' END "
            f"FROM {raw} WHERE NOT (coalesce(card_id, '') ~ '{_UUID_RE}' "
            f"AND {_sql_valid_date('issued_on')} AND {_sql_valid_date('arrived_on')}) "
            f"ORDER BY line_no LIMIT {MAX_REPORTED_ERRORS}"
        )
        format_errors = cursor.fetchall()
        if format_errors:
            texts = {
                "card_id": "card_id がカードのID（UUID）の形式ではありません。",
                "issued_on": "issued_on が正しい日付（YYYY-MM-DD）ではありません。",
                "arrived_on": "arrived_on が正しい日付（YYYY-MM-DD）ではありません。",
            }
            raise ArrivalFileError([(line, texts[problem]) for line, problem in format_errors])

        cursor.execute(
            f"CREATE TEMP TABLE {ok} ON COMMIT DROP AS SELECT line_no + 1 AS line, "  # noqa: S608
            "lower(card_id)::uuid AS card_id, issued_on::date AS issued_on, "
            f"arrived_on::date AS arrived_on FROM {raw}"
        )
        cursor.execute(f"SELECT count(*) FROM {ok}")  # noqa: S608
        row_count = cursor.fetchone()[0]
        if row_count == 0:
            raise ArrivalFileError([(None, "データ行がありません。")])
        cursor.execute(f"CREATE INDEX ON {ok} (card_id)")
        cursor.execute(f"ANALYZE {ok}")

        # Semantic checks, first problem per line. Cards of other offices are "unknown": an
        # import must not reveal that a card exists elsewhere.
        cursor.execute(
            "SELECT line, problem, state FROM (SELECT o.line, CASE "  # noqa: S608
            "WHEN o.arrived_on < o.issued_on THEN 'arrived_before_issued' "
            "WHEN o.arrived_on > %s THEN 'arrived_in_future' "
            "WHEN count(*) OVER (PARTITION BY o.card_id) > 1 THEN 'duplicate' "
            "WHEN c.id IS NULL THEN 'unknown' "
            "WHEN c.state = %s THEN NULL "
            "WHEN c.issued_on = o.issued_on AND c.arrived_on = o.arrived_on THEN NULL "
            "WHEN c.state = %s THEN 'arrived_other_dates' "
            "ELSE 'state' END AS problem, c.state "
            f"FROM {ok} o LEFT JOIN ({cards} c JOIN {residents} r "
            "ON r.id = c.resident_id AND r.office_id = %s) ON c.id = o.card_id) checked "
            f"WHERE problem IS NOT NULL ORDER BY line LIMIT {MAX_REPORTED_ERRORS}",
            [today, CardState.ORDERED.value, CardState.ARRIVED.value, office_id],
        )
        semantic_errors = cursor.fetchall()
        if semantic_errors:
            raise ArrivalFileError(
                [(line, _semantic_text(problem, state)) for line, problem, state in semantic_errors]
            )

        # Expiry per card from the one implementation of R-VAL-1…6.
        cursor.execute(
            f"SELECT o.line, o.card_id, o.issued_on, c.applied_on, r.birth_date, "  # noqa: S608
            "r.residence_category, r.period_of_stay_ends_on, r.residence_event_on "
            f"FROM {ok} o JOIN {cards} c ON c.id = o.card_id "
            f"JOIN {residents} r ON r.id = c.resident_id WHERE c.state = %s ORDER BY o.line",
            [CardState.ORDERED.value],
        )
        to_apply = cursor.fetchall()
        expiries: list[tuple[uuid.UUID, date]] = []
        problems: list[tuple[int | None, str]] = []
        for (
            line,
            card_id,
            issued_on,
            applied_on,
            birth_date,
            category,
            period_end,
            event_on,
        ) in to_apply:
            try:
                expires_on = card_expiry(
                    birth_date=birth_date,
                    issued_on=issued_on,
                    applied_on=applied_on,
                    residence=_residence(category, period_end, event_on),
                )
            except ValueError as exc:
                problems.append((line, f"有効期限を計算できません：{exc}"))
                if len(problems) >= MAX_REPORTED_ERRORS:
                    break
                continue
            expiries.append((card_id, expires_on))
        if problems:
            raise ArrivalFileError(problems)

        cursor.execute(
            f"CREATE TEMP TABLE {exp} (card_id uuid PRIMARY KEY, expires_on date NOT NULL) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY {exp} (card_id, expires_on) FROM STDIN") as copy:
            for item in expiries:
                copy.write_row(item)
        cursor.execute(f"ANALYZE {exp}")

        cursor.execute(
            f"WITH moved AS (UPDATE {cards} c SET state = %s, issued_on = o.issued_on, "  # noqa: S608
            "arrived_on = o.arrived_on, expires_on = e.expires_on, updated_at = %s "
            f"FROM {ok} o JOIN {exp} e ON e.card_id = o.card_id "
            "WHERE c.id = o.card_id AND c.state = %s RETURNING 1) SELECT count(*) FROM moved",
            [CardState.ARRIVED.value, now, CardState.ORDERED.value],
        )
        applied = cursor.fetchone()[0]
        if applied != len(expiries):
            # Another transaction changed one of these cards after the checks (e.g. an
            # application was withdrawn): refuse the whole file rather than half of it.
            raise ArrivalFileError(
                [
                    (
                        None,
                        "取込中に他の操作でカードの状態が変わりました。もう一度取り込んでください。",
                    )
                ]
            )
        cursor.execute(
            f"UPDATE {applications} a SET state = %s, arrived_at = %s, updated_at = %s "  # noqa: S608
            f"FROM {exp} e WHERE a.new_card_id = e.card_id AND a.state = %s",
            [ApplicationState.ARRIVED.value, now, now, ApplicationState.ORDERED.value],
        )
        cursor.execute(
            f"UPDATE {imports} SET row_count = %s, applied_count = %s, already_count = %s "  # noqa: S608
            "WHERE id = %s",
            [row_count, applied, row_count - applied, import_id],
        )
        for table in (raw, ok, exp):
            cursor.execute(f"DROP TABLE {table}")

    applied_ids = tuple(card_id for card_id, _ in expiries)
    _pickup_notices_on_commit(card_ids=applied_ids, on=today)
    return ArrivalImportResult(
        record=ArrivalImport.objects.get(pk=import_id),
        created=True,
        applied_card_ids=applied_ids,
    )


def _semantic_text(problem: str, state: str | None) -> str:
    if problem == "arrived_before_issued":
        return "arrived_on（到着日）が issued_on（発行日）より前です。"
    if problem == "arrived_in_future":
        return "arrived_on（到着日）が取込日より後の日付です。"
    if problem == "duplicate":
        return "同じ card_id がファイル内に複数あります。"
    if problem == "unknown":
        return "card_id に該当する、この庁舎で発注中のカードがありません。"
    if problem == "arrived_other_dates":
        return "このカードは別の発行日・到着日で到着済として記録されています。"
    label = CardState(state).label if state else "不明"
    return f"このカードは「{label}」のため、到着を記録できません。"


def _pickup_notices_on_commit(*, card_ids: tuple[uuid.UUID, ...], on: date) -> None:
    """After commit, ask the notices app to create pickup notices (R-ISS-1), if it offers it.

    apps.notices owns pickup notices; its
    ``services.pickup_notices_create_for_arrivals(*, card_ids, on)`` is looked up at run time so
    this import works with or without it. Notices are created after the arrivals are committed
    and are idempotent on the notices side; a failure there is logged (ids and counts only) and
    does not undo the arrivals.
    """
    if not card_ids:
        return
    try:
        module = importlib.import_module("apps.notices.services")
    except ImportError:
        return
    create: Callable[..., Any] | None = getattr(module, "pickup_notices_create_for_arrivals", None)
    if create is None:
        return

    def run() -> None:
        try:
            create(card_ids=list(card_ids), on=on)
        except Exception:
            logger.exception("pickup notices for %d arrived cards failed", len(card_ids))

    transaction.on_commit(run)
