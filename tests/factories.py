"""Bulk factories for tests that need many rows fast (no services, no history triggers).

The personas and the one-at-a-time factories that go through the real services are in
tests/conftest.py; these are for lists and plans, where a thousand rows must take a moment.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.residents.models import Resident

_codes = itertools.count(50_000_000_000)


def bulk_residents(
    office: Office, count: int, *, kana: str = "ヤマダ", given_kana: str = "タロウ"
) -> list[Resident]:
    """``count`` residents named 山田 太郎 (in ``kana``), with unique codes and indexes."""
    residents = []
    for _ in range(count):
        code = next(_codes)
        residents.append(
            Resident(
                office=office,
                resident_code=f"{code:011d}",
                family_name="山田",
                given_name="太郎",
                family_name_kana=kana,
                given_name_kana=given_kana,
                search_kana=kana + given_kana,
                birth_date=date(1970, 1, 1) + timedelta(days=code % 9000),
                sex="1",
                address="みどり市旭町1丁目1番1号",
                my_number_ciphertext=b"x",
                my_number_index=f"{code:064d}",
                my_number_last4="0000",
            )
        )
    return Resident.objects.bulk_create(residents)


def bulk_cards(
    residents: list[Resident],
    *,
    state: CardState = CardState.ACTIVE,
    expires_on: Callable[[int], date] = lambda n: date(2030, 2, 1),
    arrived_on: Callable[[int], date | None] = lambda n: None,
) -> list[Card]:
    """One card per resident, at the resident's office; the n-th card's dates from ``n``."""
    return Card.objects.bulk_create(
        Card(
            resident=resident,
            office_id=resident.office_id,
            state=state,
            applied_on=date(2020, 1, 1),
            issued_on=date(2020, 2, 1),
            expires_on=expires_on(n),
            arrived_on=arrived_on(n),
        )
        for n, resident in enumerate(residents)
    )
