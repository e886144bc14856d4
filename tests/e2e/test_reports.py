"""In a real browser, each report: the supervisor opens it from the 帳票 menu, the chart is
drawn (an SVG with data marks), and the Excel export downloads and opens with openpyxl holding
the table shown under the chart."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Counter, Office, User
from apps.applications.rules import ApplicationKind
from apps.audit.models import Action, Purpose
from apps.audit.services import access_log_record
from apps.cards.models import Card
from apps.cards.rules import CardState, add_months
from apps.fees.models import Payment
from apps.fees.rules import FeeRow, fiscal_year_of
from apps.fees.services import fee_schedule_seed_default
from apps.reports.services import notices_reconcile
from apps.reports.summaries import refresh
from apps.residents.models import Resident
from tests.applications.helpers import receive
from tests.e2e.conftest import open_menu_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (menu entry, the table the first sheet holds)
REPORTS = {
    "activity": ("申請と処理日数", "by_kind"),
    "stock": ("未交付カードの在庫", "bands"),
    "money": ("手数料の収納", "by_day"),
    "wave": ("有効期限の波", "months"),
    "reconciliation": ("有効期限通知の突合", "imports"),
    "security": ("セキュリティ", "reveals"),
}


@pytest.fixture
def city(
    clerk_a: User,
    supervisor_a: User,
    counter_a: Counter,
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> None:
    """A little of everything, today: what each report has to draw."""
    today = timezone.localdate()
    schedule = fee_schedule_seed_default()
    receive(clerk_a, make_resident(office_a), ApplicationKind.FIRST_ISSUE)
    make_card(
        make_resident(office_a),
        state=CardState.ARRIVED,
        applied_on=today - timedelta(days=60),
        issued_on=today - timedelta(days=45),
        arrived_on=today - timedelta(days=40),
    )
    expiring = make_card(make_resident(office_a))
    expiring_on = today + timedelta(days=40)
    Card.objects.filter(pk=expiring.pk).update(expires_on=expiring_on)
    payer = make_resident(office_a)
    Payment.objects.create(
        office=office_a,
        counter=counter_a,
        fiscal_year=fiscal_year_of(today),
        receipt_number=1,
        resident=payer,
        fee_row=FeeRow.REISSUE_LOSS_WITH_CERTS,
        schedule=schedule,
        amount_yen=1000,
        business_date=today,
        received_by=clerk_a,
        received_at=timezone.now(),
    )
    with transaction.atomic():
        access_log_record(
            actor=clerk_a,
            action=Action.REVEAL_MY_NUMBER,
            resident=payer,
            purpose=Purpose.IDENTITY_CHECK,
        )
    # J-LIS's list for the month whose notices are about that card's expiry names nobody.
    notices_reconcile(
        acting_user=supervisor_a,
        month=add_months(expiring_on.replace(day=1), -3),
        content=b"resident_code,kind,expires_on,posted_on\n",
        filename="jlis.csv",
    )
    refresh()  # the nightly views of the wave


@pytest.mark.parametrize("slug", list(REPORTS))
def test_each_report_draws_its_chart_and_exports_its_table(
    slug: str,
    page: Any,
    login: Callable[..., None],
    city: None,
    tmp_path: Any,
) -> None:
    entry, key = REPORTS[slug]
    login(page, "supervisor_a")
    open_menu_entry(page, "帳票", entry)
    chart = page.locator("svg.chart").first
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).not_to_be_empty()
    marks = chart.locator("rect.mark")
    expect(marks.first).to_have_attribute("data-value", re.compile(r"^\d"))
    values = [float(value) for value in marks.evaluate_all("m => m.map(e => e.dataset.value)")]
    assert any(value > 0 for value in values), values

    table = page.locator(f"table[data-table='{key}']")
    expect(table).to_be_visible()
    shown = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="Excelで出力（全表）").click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(target)[key]
    exported = [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert len(exported) == len(shown)
    for on_screen, in_file in zip(shown, exported, strict=True):
        assert str(in_file[0]) == on_screen[0]
        numbers = [cell for cell in in_file if isinstance(cell, int | float)]
        for number in numbers:
            assert f"{number:,}".removesuffix(".0") in on_screen or str(number) in on_screen
