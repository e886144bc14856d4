"""The big tables carry the indexes their pages read, and none that nothing reads.

At 3,000,000 cards every index costs hundreds of MB and a write on every insert; these were
measured unused (bench/pages.py) or replaced by one that serves the page, and are gone. The
ones that back a rule ("one current card per resident") must survive every migration: Django's
AlterField(db_index=False) once dropped them with the field's own (apps.core.dbops).
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

KEPT = {
    "residents_resident": {
        "resident_office_kana",
        "resident_office_dob",
        "resident_code_unique",
        "resident_my_number_index_unique",
    },
    "cards_card": {
        "card_waiting",
        "card_resident_applied",
        "card_one_current_per_resident",
        "card_current_expiry",
        "notices_card_pending",
    },
    "certificates_certificate": {"certificate_serial_unique", "certificate_one_active_per_kind"},
    "audit_accesslog": {"accesslog_at", "accesslog_office_at", "accesslog_resident_at"},
    "notices_notice": {"notice_returned_by_batch", "notice_one_per_event"},
    # The reports' periods (apps.reports.selectors.activity_report).
    "applications_application": {"application_received", "application_handed_over"},
}
GONE = {
    # The kana index in the database collation (no LIKE range) and the pattern-ops one (no
    # ORDER BY), replaced by resident_office_kana / resident_office_dob.
    "residents_resident": {"resident_kana_dob", "resident_kana_prefix"},
}


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize("table", sorted(KEPT))
def test_the_indexes_the_pages_and_rules_need_are_there(table: str) -> None:
    assert KEPT[table] <= set(_indexes(table))


@pytest.mark.parametrize(
    "table",
    ["residents_resident", "cards_card", "certificates_certificate", "audit_accesslog"],
)
def test_no_pattern_ops_copies_and_no_single_column_fk_indexes_that_others_cover(
    table: str,
) -> None:
    indexes = _indexes(table)
    assert not [name for name, definition in indexes.items() if "_pattern_ops" in definition]
    assert not GONE.get(table, set()) & set(indexes)
    covered = {
        "residents_resident": ["(office_id)"],
        "cards_card": ["(resident_id)", "(office_id)"],
        "audit_accesslog": ["(office_id)", "(resident_id)", "(at)"],
    }.get(table, [])
    plain = [d for d in indexes.values() if "UNIQUE" not in d and " WHERE " not in d]
    assert not [d for d in plain for column in covered if d.endswith(column)]


def test_the_kana_column_and_its_indexes_are_in_collation_c() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'residents_resident' AND column_name = 'search_kana'"
        )
        assert cursor.fetchone() == ("C",)
        # An empty table's "read it all" shortcut would hide whether the index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM residents_resident WHERE office_id = %s "
            "AND search_kana::text LIKE %s ORDER BY search_kana, birth_date LIMIT 21",
            ["00000000-0000-0000-0000-000000000000", "ヤマダ%"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The prefix is a range of the index (the planner adds >= and < bounds), and the order
    # comes from it: no Sort node.
    assert "resident_office_kana" in plan
    assert "search_kana)::text >= 'ヤマダ'::text" in plan
    assert "Sort" not in plan
