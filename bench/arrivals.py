"""Benchmark: import a 100,000-line J-LIS arrivals file (apps.applications.arrivals).

    .venv/bin/python bench/arrivals.py            # 100,000 rows
    BENCH_ARRIVALS_ROWS=20000 .venv/bin/python bench/arrivals.py
    .venv/bin/python bench/arrivals.py --keep     # leave the scratch database for a look

It never touches the development database: it creates its own scratch database
``madoguchi_bench_arrivals`` on the server the settings point at (the embedded PostgreSQL when
DATABASE_URL is unset, else the DATABASE_URL server), migrates it, generates residents, their
ordered cards and first-issue applications set-based, writes the arrivals file, and then:

1. imports it with ``arrivals_import`` (COPY to a temp table, SQL validation, expiries from
   ``card_expiry`` in one Python pass, UPDATE … FROM, history rows from the pghistory
   triggers) and checks every card and application arrived;
2. imports the same bytes again (idempotency: nothing changes);
3. as the baseline, COPYs the same bytes into a plain scratch table in the same run.

It prints the times and the ratio import / plain COPY, then drops the scratch database.
Pickup notices (apps.notices, created after the commit) are not part of this figure: they are
the notices app's own batch work and have their own benchmark.
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "madoguchi_bench_arrivals"
ROWS = int(os.environ.get("BENCH_ARRIVALS_ROWS", "100000"))
ROOT = Path(__file__).resolve().parent.parent


def _configure() -> None:
    """Point the settings at the scratch database before Django starts."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        _recreate(_server_params(os.environ["DATABASE_URL"]))
    else:
        # config.devdb creates the database on the embedded server when settings load.
        os.environ["EMBEDDED_DB_NAME"] = BENCH_DB


def _server_params(url: str) -> dict[str, Any]:
    from config.env import parse_database_url

    db = parse_database_url(url)
    params = {"host": db["HOST"], "user": db["USER"], "password": db["PASSWORD"]}
    if db["PORT"]:
        params["port"] = db["PORT"]
    return {key: value for key, value in params.items() if value}


def _recreate(params: dict[str, Any], *, create: bool = True) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def _copy_rows(model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY model rows; fields missing from a row take the model field's default."""
    from django.db import connection

    fields = model._meta.concrete_fields
    columns = ", ".join(f'"{field.column}"' for field in fields)
    defaults = {field.attname: field.get_default() for field in fields}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row.get(field.attname, defaults[field.attname]) for field in fields])


def _generate(today: date) -> tuple[Any, bytes, list[uuid.UUID]]:
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.accounts.models import Counter, Office, User
    from apps.accounts.roles import Role
    from apps.applications.models import Application
    from apps.applications.rules import ApplicantType, ApplicationKind, ApplicationState
    from apps.cards.models import Card
    from apps.cards.rules import CardState
    from apps.fees.rules import FeeRow
    from apps.fees.services import fee_schedule_seed_default
    from apps.residents.models import Resident

    rng = random.Random(20261127)  # reproducible fake data
    now = timezone.now()
    schedule = fee_schedule_seed_default()
    office = Office.objects.create(code="bench", name="ベンチ庁舎")
    counter = Counter.objects.create(office=office, code="1", name="1番窓口")
    clerk = User.objects.create_user(
        username="bench-clerk",
        password=uuid.uuid4().hex,
        role=Role.CLERK,
        office=office,
        counter=counter,
    )
    residents, cards, applications, lines = [], [], [], []
    card_ids = []
    for n in range(ROWS):
        resident_id, card_id = uuid.uuid4(), uuid.uuid4()
        applied_on = today - timedelta(days=rng.randint(40, 90))
        issued_on = applied_on + timedelta(days=rng.randint(20, 35))
        arrived_on = min(issued_on + timedelta(days=rng.randint(1, 4)), today)
        foreign = n % 20 == 0
        residents.append(
            {
                "id": resident_id,
                "office_id": office.id,
                "resident_code": f"{n + 1:011d}",
                "family_name": "山田",
                "given_name": "花子",
                "family_name_kana": "ヤマダ",
                "given_name_kana": "ハナコ",
                "search_kana": "ヤマダハナコ",
                "birth_date": date(rng.randint(1935, 2020), rng.randint(1, 12), rng.randint(1, 28)),
                "sex": "2",
                "address": "みどり市旭町1丁目1番1号",
                "nationality": "US" if foreign else "JP",
                "residence_category": "mid_long_term" if foreign else "",
                "period_of_stay_ends_on": today + timedelta(days=rng.randint(200, 2000))
                if foreign
                else None,
                # Fake bytes, not a real ciphertext: the import never reads the My Number.
                "my_number_ciphertext": rng.randbytes(48),
                "my_number_index": uuid.uuid4().hex + uuid.uuid4().hex,
                "my_number_last4": f"{n % 10000:04d}",
                "created_at": now,
                "updated_at": now,
            }
        )
        cards.append(
            {
                "id": card_id,
                "resident_id": resident_id,
                "state": CardState.ORDERED.value,
                "applied_on": applied_on,
                "created_at": now,
                "updated_at": now,
            }
        )
        applications.append(
            {
                "id": uuid.uuid4(),
                "kind": ApplicationKind.FIRST_ISSUE.value,
                "state": ApplicationState.ORDERED.value,
                "resident_id": resident_id,
                "office_id": office.id,
                "counter_id": counter.id,
                "applicant_type": ApplicantType.HOLDER.value,
                "documents": ["drivers_license"],
                "received_on": applied_on,
                "received_at": now,
                "received_by_id": clerk.id,
                "fee_row": FeeRow.FIRST_ISSUE_FREE.value,
                "fee_amount_yen": 0,
                "fee_schedule_id": schedule.id,
                "new_card_id": card_id,
                "ordered_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        lines.append(f"{card_id},{issued_on.isoformat()},{arrived_on.isoformat()}")
        card_ids.append(card_id)
    for model, rows in ((Resident, residents), (Card, cards), (Application, applications)):
        # Foreign keys checked as each COPY ends, not queued to the commit: with 100,000s of
        # deferred checks queued, every statement the history triggers run rescans that
        # queue, which makes a bulk load quadratic.
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _copy_rows(model, rows)
        print(f"  {model.__name__}: {time.perf_counter() - started:.1f} s")
    content = ("card_id,issued_on,arrived_on\n" + "\n".join(lines) + "\n").encode()
    return clerk, content, card_ids


def _plain_copy_seconds(content: bytes) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_copy_baseline (card_id text, issued_on text, arrived_on text)"
            " ON COMMIT DROP"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(
            "COPY bench_copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy:
            copy.write(content)
        return time.perf_counter() - started


def main() -> int:
    keep = "--keep" in sys.argv[1:]
    _configure()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    settings_dict = connection.settings_dict
    if settings_dict["NAME"] != BENCH_DB:
        raise SystemExit(f"refusing to run: the settings point at {settings_dict['NAME']!r}")
    params = {
        key: value
        for key, value in {
            "host": settings_dict.get("HOST"),
            "port": settings_dict.get("PORT"),
            "user": settings_dict.get("USER"),
            "password": settings_dict.get("PASSWORD"),
        }.items()
        if value
    }
    if not os.environ.get("DATABASE_URL"):
        # An embedded-server run may find a database left by an interrupted run: start clean.
        _recreate(params)

    from apps.applications import arrivals
    from apps.applications.arrivals import arrivals_import
    from apps.applications.models import Application
    from apps.cards.models import Card

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"scratch database {BENCH_DB}: migrated in {time.perf_counter() - started:.1f} s")
        today = timezone.localdate()
        started = time.perf_counter()
        clerk, content, card_ids = _generate(today)
        print(
            f"generated {ROWS:,} residents, ordered cards and applications, and a "
            f"{len(content) / 1e6:.1f} MB arrivals file in {time.perf_counter() - started:.1f} s"
        )
        # Pickup notices are the notices app's work after the commit; not measured here.
        arrivals._pickup_notices_on_commit = lambda **kwargs: None  # type: ignore[assignment]

        statements: list[tuple[float, str]] = []

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements.append((time.perf_counter() - began, " ".join(sql.split())[:70]))

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            result = arrivals_import(
                acting_user=clerk, content=content, filename="bench-arrivals.csv", on=today
            )
        import_seconds = time.perf_counter() - started
        assert result.created
        assert result.record.applied_count == ROWS, result.record.applied_count
        assert Card.objects.filter(state="arrived", expires_on__isnull=False).count() == ROWS
        assert Application.objects.filter(state="arrived").count() == ROWS

        started = time.perf_counter()
        again = arrivals_import(
            acting_user=clerk, content=content, filename="bench-arrivals.csv", on=today
        )
        again_seconds = time.perf_counter() - started
        assert not again.created

        copy_seconds = _plain_copy_seconds(content)
        print(f"arrivals_import of {ROWS:,} rows: {import_seconds:.2f} s")
        print(f"same file again (idempotent, nothing changed): {again_seconds * 1000:.1f} ms")
        print(f"plain COPY of the same rows into a scratch table: {copy_seconds:.3f} s")
        print(f"ratio import / plain COPY: {import_seconds / copy_seconds:.1f}x")
        print(f"throughput: {ROWS / import_seconds:,.0f} rows/s")
        print("slowest statements of the import (COPY itself is not listed: it bypasses them):")
        for seconds, text in sorted(statements, reverse=True)[:4]:
            print(f"  {seconds:6.2f} s  {text}")
        del card_ids
        summary = (
            f"arrivals: {ROWS:,} rows imported in {import_seconds:.2f} s, plain COPY "
            f"{copy_seconds:.3f} s, ratio {import_seconds / copy_seconds:.0f}x"
        )
    finally:
        connections.close_all()
        if not keep:
            _recreate(params, create=False)
            print(f"dropped scratch database {BENCH_DB}")
    print(summary)  # the figures on the last line (README, Benchmarks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
