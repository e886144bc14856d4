"""What the handover interlock's city-wide same-name probe (R-HND-4) costs at a big city's size.

    .venv/bin/python bench/interlock.py [--residents 100000] [--probes 300]

Makes a scratch database (``madoguchi_bench_interlock``, on the embedded PostgreSQL or on the
server of DATABASE_URL), migrates it, inserts ``--residents`` residents in one statement
(every kana name shared by a few), then times ``same_name_residents(...).exists()`` for random
residents against a baseline measured in the same run: the primary-key lookup of the same
resident. The last line is ``residents=… probe_ms=… baseline_ms=… ratio=…``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import reads  # noqa: E402 - bench/reads.py: the scratch-database helpers

SCRATCH_DB = "madoguchi_bench_interlock"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=300)
    args = parser.parse_args()

    reads.SCRATCH_DB = SCRATCH_DB
    url = reads.scratch_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.custody.selectors import same_name_residents
    from apps.residents.models import Resident

    try:
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM accounts_office LIMIT 1")
            row = cursor.fetchone()
            if row is None:
                cursor.execute(
                    "INSERT INTO accounts_office (id, code, name, kind) "
                    "VALUES (gen_random_uuid(), 'bench', 'bench', 'main') RETURNING id"
                )
                row = cursor.fetchone()
            office_id = row[0]
            # Names repeat every 50,000 residents; households of four. No My Numbers (held as
            # erased): the probe never reads them.
            cursor.execute(
                """
                INSERT INTO residents_resident (
                    id, office_id, resident_code, family_name, given_name, family_name_kana,
                    given_name_kana, former_surname, former_surname_kana, search_kana,
                    birth_date, household_code, sex, postal_code, address, nationality,
                    residence_category, adult_ward, legal_representative_name,
                    my_number_last4, my_number_erased_on, left_reason, created_at, updated_at)
                SELECT gen_random_uuid(), %s, lpad(n::text, 11, '0'), '山田', '花子',
                    'ヤマダ', 'ハナコ', '', '', 'ヤマダハナコ' || (n %% 50000)::text,
                    date '1950-01-01' + (n %% 20000), 'H' || (n / 4)::text, '2', '', '市内',
                    'JP', '', false, '', '', date '2020-01-01', '', now(), now()
                FROM generate_series(1, %s) AS n
                """,
                [office_id, args.residents],
            )
            cursor.execute("ANALYZE residents_resident")
        rng = random.Random(2026)
        ids = list(Resident.objects.values_list("pk", flat=True)[: args.residents])
        sample = [Resident.objects.get(pk=rng.choice(ids)) for _ in range(args.probes)]

        def timed(run: object) -> float:
            times = []
            for resident in sample:
                start = time.perf_counter()
                run(resident)  # type: ignore[operator]
                times.append(time.perf_counter() - start)
            return statistics.median(times) * 1000

        baseline = timed(lambda r: Resident.objects.filter(pk=r.pk).exists())
        probe = timed(lambda r: same_name_residents(resident=r).exists())
        print(
            f"residents={args.residents} probe_ms={probe:.3f} baseline_ms={baseline:.3f} "
            f"ratio={probe / baseline:.2f}"
        )
    finally:
        connection.close()
        reads.drop_scratch_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
