"""The kana search lists Japanese names in the same order as before its index moved to "C".

The search used to sort ``search_kana`` in the database's default collation (C.UTF-8: code
points); it now sorts it in "C" (Resident.search_kana), the only collation PostgreSQL will
turn a LIKE prefix into an index range in. For kana both are code-point order, which is the
syllabary with three things worth checking by hand:

- a small kana sorts just before its full-size one (キョ < キヨ), and the small ッ between
  ヂ and ツ (キダ < キッカワ < キム);
- a voiced kana sorts just after its plain one (キ < ギ, タ < ダ);
- the long-vowel mark ー sorts after every kana, ン included (キム… < キーン);
- a semi-voiced kana sorts just after its voiced one (ヒ < ビ < ピ), and ー after a vowel
  kana in the same place (ピエール < ピーター).

The list below was sorted by hand with those rules (code points noted where they decide).
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from django.db import connection

from apps.accounts.models import Office, User
from apps.residents.selectors import resident_search

pytestmark = pytest.mark.django_db

# (family name kana, given name kana, date of birth), in the order the clerk must see them.
HAND_CHECKED = [
    ("キクチ", "キョウコ", date(1961, 4, 2)),  # 菊地 京子: small ョ (30E7) …
    ("キクチ", "キヨコ", date(1958, 9, 30)),  # 菊地 清子: … before full-size ヨ (30E8)
    ("キクチ", "ギンジ", date(1949, 1, 15)),  # 菊地 銀次: voiced ギ (30AE) after キ (30AD)
    ("キタノ", "タケシ", date(1947, 1, 18)),  # 北野 武: タ (30BF) …
    ("キダ", "タロウ", date(1990, 6, 1)),  # 木田 太郎: … then voiced ダ (30C0)
    ("キッカワ", "コウジ", date(1965, 8, 18)),  # 吉川 晃司: small ッ (30C3) after ダ, チ
    ("キム", "ミンジュン", date(1995, 3, 3)),  # 金 珉俊: ム ミ (30DF) with a small ュ …
    ("キムラ", "タクヤ", date(1965, 10, 1)),  # 木村 拓哉 (older) … before ム ラ (30E9);
    ("キムラ", "タクヤ", date(1972, 11, 13)),  # the same kana: the earlier birth first
    ("キーン", "ドナルド", date(1922, 6, 18)),  # Keene Donald: long vowel ー (30FC) last
]

# Semi-voiced marks and the long vowel inside a given name, under one family name.
HAND_CHECKED_HONDA = [
    ("ホンダ", "ヒカル", date(1988, 7, 7)),  # 本田 光: ヒ (30D2) …
    ("ホンダ", "ビクトル", date(1979, 2, 14)),  # 本田 ビクトル: … voiced ビ (30D3) …
    ("ホンダ", "ピエール", date(1983, 5, 20)),  # 本田 ピエール: … semi-voiced ピ (30D4); エ (30A8)
    ("ホンダ", "ピーター", date(1976, 12, 1)),  # 本田 ピーター: … before ー (30FC)
]


def _register(
    make_resident: Any, office: Office, rows: list[tuple[str, str, date]], *, seed: int
) -> None:
    """``rows`` registered in a shuffled order: the search, not the insert, sorts them."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    for family, given, born in shuffled:
        make_resident(office, family_name_kana=family, given_name_kana=given, birth_date=born)


@pytest.fixture
def named(office_a: Office, make_resident: Any) -> None:
    """The residents of HAND_CHECKED (and a 佐藤 besides, whom a キ search must not list)."""
    _register(make_resident, office_a, HAND_CHECKED, seed=14)
    make_resident(office_a, family_name_kana="サトウ", given_name_kana="ハナコ")


@pytest.fixture
def named_honda(office_a: Office, make_resident: Any) -> None:
    """The residents of HAND_CHECKED_HONDA (and a 本間, whom ホンダ must not list)."""
    _register(make_resident, office_a, HAND_CHECKED_HONDA, seed=15)
    make_resident(office_a, family_name_kana="ホンマ", given_name_kana="アキラ")


def _listed(user: User, kana: str) -> list[tuple[str, str, date]]:
    found = resident_search(user=user, kana=kana)
    return [(r.family_name_kana, r.given_name_kana, r.birth_date) for r in found.residents]


def test_the_hand_checked_list_is_in_code_point_order() -> None:
    """The hand check agrees with code points (what both collations compare)."""
    for listed in (HAND_CHECKED, HAND_CHECKED_HONDA):
        assert sorted(listed, key=lambda row: (row[0] + row[1], row[2])) == listed


def test_semi_voiced_marks_and_long_vowels_in_the_given_name(
    named_honda: None, clerk_a: User
) -> None:
    assert _listed(clerk_a, "ほんだ") == HAND_CHECKED_HONDA
    assert _listed(clerk_a, "ホンダピ") == HAND_CHECKED_HONDA[2:]


def test_kana_search_lists_japanese_names_in_the_hand_checked_order(
    named: None, clerk_a: User
) -> None:
    assert _listed(clerk_a, "き") == HAND_CHECKED
    assert _listed(clerk_a, "ｷﾑ") == HAND_CHECKED[6:9]  # half-width kana find the same
    assert _listed(clerk_a, "キク チ") == HAND_CHECKED[:3]


def test_the_order_is_the_order_of_the_databases_default_collation(
    named: None, clerk_a: User
) -> None:
    """ "The same order as before": the column's old collation sorts these names the same way.

    Fails on a database whose default collation does not sort kana by code point (a
    linguistic locale may weigh a voiced kana as its plain one first): there it did change.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT family_name_kana, given_name_kana, birth_date FROM residents_resident "
            'WHERE search_kana LIKE %s ORDER BY search_kana COLLATE "default", birth_date',
            ["キ%"],
        )
        before = [tuple(row) for row in cursor.fetchall()]
    assert before == HAND_CHECKED == _listed(clerk_a, "キ")
