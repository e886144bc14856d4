"""Resident pages: anonymous → login, other office → 404, wrong role → 403, permitted → 200."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.audit.models import AccessLog, Action
from apps.cards.models import Card
from apps.residents.models import Resident
from apps.residents.selectors import SEARCH_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(
    make_resident: Callable[..., Resident], office_a: Office, make_card: Callable[..., Card]
) -> Resident:
    resident = make_resident(office_a, my_number="123456789018")
    make_card(resident)
    return resident


def test_search_page_access(
    client_for: Callable[[User | None], Client], clerk_a: User, auditor: User
) -> None:
    url = reverse("residents:search")
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302
    assert reverse("account_login") in anonymous["Location"]
    assert client_for(auditor).get(url).status_code == 403
    page = client_for(clerk_a).get(url)
    assert page.status_code == 200
    assert "住民検索" in page.content.decode()


def test_detail_page_access(
    client_for: Callable[[User | None], Client],
    resident: Resident,
    clerk_a: User,
    clerk_b: User,
    supervisor_a: User,
    auditor: User,
) -> None:
    url = reverse("residents:detail", args=[resident.pk])
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_b).get(url).status_code == 404  # other office: not even "forbidden"
    assert client_for(auditor).get(url).status_code == 403
    assert client_for(supervisor_a).get(url).status_code == 200
    page = client_for(clerk_a).get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "**** **** 9018" in body
    assert "123456789018" not in body


def test_detail_shows_card_expiry_in_both_forms(
    client_for: Callable[[User | None], Client], resident: Resident, clerk_a: User
) -> None:
    body = client_for(clerk_a).get(reverse("residents:detail", args=[resident.pk])).content.decode()
    # Born 10 October 1985, card issued 2020-05-15 → 2029-10-10 (R-VAL-4 worked example).
    assert "2029年10月10日 / 令和11年10月10日" in body


def test_viewing_a_resident_is_logged(
    client_for: Callable[[User | None], Client], resident: Resident, clerk_a: User
) -> None:
    client_for(clerk_a).get(reverse("residents:detail", args=[resident.pk]))
    log = AccessLog.objects.get()
    assert (log.action, log.resident, log.actor) == (Action.VIEW_RESIDENT, resident, clerk_a)


def test_kana_search_finds_by_hiragana_and_logs_no_terms(
    client_for: Callable[[User | None], Client], resident: Resident, clerk_a: User
) -> None:
    response = client_for(clerk_a).post(
        reverse("residents:search"), {"k-kana": "やまだ はなこ", "k-birth_date": "1985-10-10"}
    )
    assert response.status_code == 200
    assert reverse("residents:detail", args=[resident.pk]) in response.content.decode()
    log = AccessLog.objects.get()
    assert log.action == Action.SEARCH
    assert log.detail == {"fields": ["kana", "birth_date"], "matched": 1}


def test_kana_search_is_scoped_to_the_office(
    client_for: Callable[[User | None], Client], resident: Resident, clerk_b: User
) -> None:
    response = client_for(clerk_b).post(reverse("residents:search"), {"k-kana": "ヤマダ"})
    assert "検索結果 0件" in response.content.decode()


def _many_yamada(
    make_resident: Callable[..., Resident],
    office: Office,
    count: int,
    birth_date: date = date(1980, 1, 1),
) -> None:
    for n in range(count):
        make_resident(office, given_name_kana=f"タ{chr(0x30A2 + n)}", birth_date=birth_date)


def _kana_field(html: str) -> str:
    found = re.search(r'<input[^>]*name="k-kana"[^>]*>', html)
    assert found is not None
    return found.group(0)


def _birth_date_field(html: str) -> str:
    found = re.search(r'<input[^>]*name="k-birth_date"[^>]*>', html)
    assert found is not None
    return found.group(0)


def test_a_search_matching_more_than_a_screenful_says_so_and_asks_for_the_birth_date(
    client_for: Callable[[User | None], Client],
    make_resident: Callable[..., Resident],
    office_a: Office,
    clerk_a: User,
) -> None:
    """Rather than paging through every 山田: the first screenful, a note that there are more
    (never how many: nothing counts them), and the cursor on the date of birth."""
    _many_yamada(make_resident, office_a, SEARCH_LIMIT + 1)
    response = client_for(clerk_a).post(reverse("residents:search"), {"k-kana": "やまだ"})
    html = response.content.decode()
    assert len(re.findall(r'href="/residents/[0-9a-f-]{36}/"', html)) == SEARCH_LIMIT
    assert f"検索結果 {SEARCH_LIMIT}件を超えています" in html
    assert "data-more-results" in html
    assert "<strong>生年月日</strong>を入力して絞り込んでください" in html
    assert "autofocus" in _birth_date_field(html)
    assert "autofocus" not in _kana_field(html)
    assert 'value="やまだ"' in _kana_field(html)  # the kana stays as typed
    log = AccessLog.objects.get()
    assert log.detail == {"fields": ["kana"], "matched": SEARCH_LIMIT, "more": True}


def test_more_than_a_screenful_with_the_birth_date_asks_for_more_kana(
    client_for: Callable[[User | None], Client],
    make_resident: Callable[..., Resident],
    office_a: Office,
    clerk_a: User,
) -> None:
    _many_yamada(make_resident, office_a, SEARCH_LIMIT + 1)
    response = client_for(clerk_a).post(
        reverse("residents:search"), {"k-kana": "ヤ", "k-birth_date": "1980-01-01"}
    )
    html = response.content.decode()
    assert "氏名(カナ)を続けて入力して絞り込んでください" in html
    assert "autofocus" in _kana_field(html)


def test_a_screenful_exactly_is_listed_without_a_note(
    client_for: Callable[[User | None], Client],
    make_resident: Callable[..., Resident],
    office_a: Office,
    clerk_a: User,
) -> None:
    _many_yamada(make_resident, office_a, SEARCH_LIMIT)
    response = client_for(clerk_a).post(reverse("residents:search"), {"k-kana": "ヤマダ"})
    html = response.content.decode()
    assert f"検索結果 {SEARCH_LIMIT}件</h2>" in html
    assert "data-more-results" not in html
    assert AccessLog.objects.get().detail == {"fields": ["kana"], "matched": SEARCH_LIMIT}


def test_empty_search_explains_itself(
    client_for: Callable[[User | None], Client], clerk_a: User
) -> None:
    response = client_for(clerk_a).post(reverse("residents:search"), {"k-kana": ""})
    assert "氏名(カナ)か生年月日を入力してください" in response.content.decode()
    assert AccessLog.objects.count() == 0


def test_r_myn_2_number_search_is_posted_and_never_in_a_url(
    client_for: Callable[[User | None], Client], resident: Resident, clerk_a: User
) -> None:
    response = client_for(clerk_a).post(
        reverse("residents:search"),
        {"n-my_number": "1234 5678 9018", "n-purpose": "identity_check"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:detail", args=[resident.pk])
    assert "9018" not in response["Location"]
    log = AccessLog.objects.get()
    assert (log.action, log.purpose, log.resident) == (
        Action.SEARCH_MY_NUMBER,
        "identity_check",
        resident,
    )


def test_r_myn_1_bad_number_gets_a_clear_error(
    client_for: Callable[[User | None], Client], clerk_a: User
) -> None:
    response = client_for(clerk_a).post(
        reverse("residents:search"), {"n-my_number": "123456789011", "n-purpose": "identity_check"}
    )
    assert response.status_code == 200
    assert "チェックデジット（12桁目）が一致しません" in response.content.decode()
    assert AccessLog.objects.count() == 0


def test_number_search_other_office_finds_nothing(
    client_for: Callable[[User | None], Client], resident: Resident, clerk_b: User
) -> None:
    response = client_for(clerk_b).post(
        reverse("residents:search"), {"n-my_number": "123456789018", "n-purpose": "identity_check"}
    )
    assert response.status_code == 200
    assert "該当する住民はいません" in response.content.decode()


def test_reveal_access_and_log(
    client_for: Callable[[User | None], Client],
    resident: Resident,
    clerk_a: User,
    clerk_b: User,
    auditor: User,
) -> None:
    url = reverse("residents:reveal", args=[resident.pk])
    data = {"purpose": "card_procedure"}
    assert client_for(None).post(url, data).status_code == 302
    assert client_for(clerk_b).post(url, data).status_code == 404
    assert client_for(auditor).post(url, data).status_code == 403
    assert client_for(clerk_a).get(url).status_code == 405
    response = client_for(clerk_a).post(url, data)
    assert response.status_code == 200
    assert "1234 5678 9018" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert AccessLog.objects.filter(action=Action.REVEAL_MY_NUMBER).count() == 1


def test_home_sends_each_role_to_its_page(
    client_for: Callable[[User | None], Client], clerk_a: User, auditor: User
) -> None:
    assert client_for(clerk_a).get("/")["Location"] == reverse("residents:search")
    assert client_for(auditor).get("/")["Location"] == reverse("audit:log")
    assert client_for(None).get("/").status_code == 302
