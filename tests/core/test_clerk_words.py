"""The clerk's screens say things a clerk reads: no rule ids (``R-REI table``, ``(R-NOT-1)``),
the audit detail as a sentence (not ``fields=['kana'] matched=11``), staff by name (not the
sign-in name), nationality by its Japanese name (not ``PH``), and amounts one way
(``1,000円`` everywhere)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.applications.rules import ApplicationKind
from apps.applications.services import application_pay
from apps.audit.rules import describe_access
from apps.fees.rules import ReissueReason
from apps.residents.rules import Residence, ResidenceCategory
from apps.residents.services import resident_search_logged
from tests.applications.helpers import receive

APPS = Path(__file__).resolve().parents[2] / "apps"
RULE_ID = re.compile(r"R-[A-Z]{2,4}(?:-\d+| table)")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Shown only in the Django admin (the administrator's), never on a clerk's screen.
ADMIN_ONLY_KEYWORDS = {"help_text", "verbose_name", "verbose_name_plural"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_message_a_clerk_reads_cites_a_rule_id() -> None:
    """Japanese text in the code is what screens and error messages show; rule ids belong in
    docstrings and comments."""
    offenders = []
    for path in sorted(APPS.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in ADMIN_ONLY_KEYWORDS:
                skip.add(id(node.value))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and JAPANESE.search(node.value)
                and RULE_ID.search(node.value)
            ):
                offenders.append(f"{path.relative_to(APPS.parent)}:{node.lineno} {node.value!r}")
    templates = [
        f"{path.relative_to(APPS.parent)}"
        for root in (APPS, APPS.parent / "templates")
        for path in sorted(root.rglob("*.html"))
        if RULE_ID.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert templates == []


@pytest.mark.django_db
def test_the_application_page_shows_no_rule_id_and_one_way_of_amounts(
    clerk_a: User,
    office_a: Office,
    make_resident: Callable[..., Any],
    make_card: Callable[..., Any],
    client_for: Callable[[User | None], Client],
) -> None:
    resident = make_resident(office_a)
    make_card(resident)
    application = receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第9号",
    )
    client = client_for(clerk_a)
    pages = [
        client.get(reverse("applications:detail", args=[application.pk])).content.decode(),
        client.get(reverse("residents:detail", args=[resident.pk])).content.decode(),
        client.get(
            reverse("fees:quote"),
            {"procedure": "renewal", "old_card_lost": "on", "with_certificates": "on"},
        ).content.decode(),
    ]
    for page in pages:
        assert not RULE_ID.search(page), RULE_ID.search(page)
        assert not re.search(r"\d{4}円", page)  # 1000円: amounts carry their comma
    assert "1,000円" in pages[0]
    assert "1,000円" in pages[1]  # the resident's procedures list


@pytest.mark.django_db
def test_staff_are_shown_by_name_and_the_audit_detail_as_a_sentence(
    clerk_a: User,
    auditor: User,
    supervisor_a: User,
    office_a: Office,
    make_resident: Callable[..., Any],
    make_card: Callable[..., Any],
    client_for: Callable[[User | None], Client],
) -> None:
    clerk_a.first_name = "一郎"
    clerk_a.save(update_fields=["first_name"])
    for n in range(3):
        make_resident(office_a, family_name_kana=f"サトウ{n}", given_name_kana="ハナコ")
    resident_search_logged(acting_user=clerk_a, kana="サトウ", birth_date=None)
    log = client_for(auditor).get(reverse("audit:log")).content.decode()
    assert "氏名(カナ)で検索し、3件が該当しました。" in log
    assert "matched=" not in log
    assert "窓口 一郎" in log
    assert ">clerk_a<" not in log

    holder = make_resident(office_a)
    make_card(holder)
    application = receive(
        clerk_a,
        holder,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.STOLEN,
        police_report_no="第8号",
    )
    application_pay(acting_user=clerk_a, application=application, idempotency_key="w")
    payments = client_for(supervisor_a).get(reverse("fees:payments")).content.decode()
    assert "窓口 一郎" in payments
    assert ">clerk_a<" not in payments


def test_every_kind_of_access_reads_as_a_sentence() -> None:
    assert describe_access("search", {"fields": ["kana", "birth_date"], "matched": 0}) == (
        "氏名(カナ)・生年月日で検索し、該当はありませんでした。"
    )
    assert describe_access("search", {"fields": ["kana"], "matched": 50, "more": True}) == (
        "氏名(カナ)で検索し、50件が該当しました（一覧に収まらない分があります）。"
    )
    assert (
        describe_access("search_my_number", {"matched": 1})
        == "個人番号で検索し、1件が該当しました。"
    )
    assert (
        describe_access("export", {"batch": "x", "format": "csv", "letters": 1200})
        == "通知書の束（1,200通）をCSVで出力しました。"
    )
    assert describe_access("card_read", {"read": "r", "counter": "c", "match": "certificate"}) == (
        "窓口でカードを読み取り、画面に表示しました（利用者証明用電子証明書のシリアル番号で照合）。"
    )
    assert describe_access("view_resident", {}) == ""


@pytest.mark.django_db
def test_nationality_is_shown_by_its_japanese_name(
    clerk_a: User,
    office_a: Office,
    make_resident: Callable[..., Any],
    client_for: Callable[[User | None], Client],
) -> None:
    foreign = make_resident(
        office_a,
        nationality="PH",
        residence=Residence(
            category=ResidenceCategory.MID_LONG_TERM, period_ends_on=date(2030, 3, 31)
        ),
    )
    national = make_resident(office_a, family_name_kana="タナカ")
    page = client_for(clerk_a).get(reverse("residents:detail", args=[foreign.pk])).content
    assert "<dd>フィリピン</dd>" in page.decode()
    assert "<dd>PH</dd>" not in page.decode()
    other = client_for(clerk_a).get(reverse("residents:detail", args=[national.pk])).content
    assert "<dd>日本</dd>" in other.decode()
