"""R-AUD-1: the auditor's screen filters by staff, resident, action, outcome and period, and
exports (the export is logged). The Django admin does not show the log."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.audit.models import AccessLog, Action, Outcome
from apps.audit.services import access_log_record
from apps.residents.models import Resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(
    clerk_a: User,
    clerk_b: User,
    supervisor_a: User,
    make_resident: Callable[..., Resident],
    office_a: Office,
) -> tuple[Resident, Resident]:
    resident = make_resident(office_a, my_number="123456789018")
    other = make_resident(office_a)
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.VIEW_RESIDENT, resident=resident)
        access_log_record(actor=clerk_a, action=Action.SEARCH, detail={"matched": 2})
        access_log_record(
            actor=clerk_b, action=Action.VIEW_RESIDENT, resident=resident, outcome=Outcome.DENIED
        )
        access_log_record(actor=supervisor_a, action=Action.VIEW_RESIDENT, resident=other)
    return resident, other


def _actions(response: Any) -> list[tuple[str, str]]:
    return [(row.actor.username, row.action) for row in response.context["page"]]


def test_filters_by_staff_action_outcome_and_resident(
    client_for: Callable[[User | None], Client], auditor: User, clerk_a: User, rows: Any
) -> None:
    resident, _ = rows
    client = client_for(auditor)
    url = reverse("audit:log")
    assert _actions(client.get(url, {"actor": str(clerk_a.pk)})) == [
        ("clerk_a", "search"),
        ("clerk_a", "view_resident"),
    ]
    assert _actions(client.get(url, {"action": "search"})) == [("clerk_a", "search")]
    assert _actions(client.get(url, {"outcome": "denied"})) == [("clerk_b", "view_resident")]
    assert _actions(client.get(url, {"resident": str(resident.pk)})) == [
        ("clerk_b", "view_resident"),
        ("clerk_a", "view_resident"),
    ]
    # By resident code: a POST, so the code stays out of the URL; it lands on the id filter.
    response = client.post(
        reverse("audit:by_resident_code"), {"resident_code": resident.resident_code}
    )
    assert response["Location"] == f"{url}?resident={resident.pk}"


def test_filters_by_period_in_the_citys_days(
    client_for: Callable[[User | None], Client], auditor: User, rows: Any
) -> None:
    today = timezone.localdate()
    client = client_for(auditor)
    url = reverse("audit:log")
    assert (
        len(client.get(url, {"date_from": str(today), "date_to": str(today)}).context["page"]) == 4
    )
    yesterday = today - timedelta(days=1)
    assert len(client.get(url, {"date_to": str(yesterday)}).context["page"]) == 0
    assert len(client.get(url, {"date_from": str(today + timedelta(days=1))}).context["page"]) == 0
    response = client.get(url, {"date_from": str(today), "date_to": str(yesterday)})
    assert "開始日は終了日より前に" in response.content.decode()


def test_a_supervisor_filters_only_their_offices_staff(
    client_for: Callable[[User | None], Client], supervisor_a: User, clerk_b: User, rows: Any
) -> None:
    response = client_for(supervisor_a).get(reverse("audit:log"), {"actor": str(clerk_b.pk)})
    assert "actor" in response.context["form"].errors  # not a choice for office A's supervisor


def test_export_is_csv_of_the_filtered_rows_and_is_logged(
    client_for: Callable[[User | None], Client], auditor: User, clerk_a: User, rows: Any
) -> None:
    before = AccessLog.objects.count()
    response = client_for(auditor).get(reverse("audit:export"), {"actor": str(clerk_a.pk)})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["連番", "日時", "職員"]
    assert len(table) == 3
    assert "123456789018" not in text
    logged = AccessLog.objects.order_by("-seq").first()
    assert logged is not None
    assert AccessLog.objects.count() == before + 1
    assert (logged.actor, logged.action) == (auditor, Action.EXPORT)
    assert logged.detail["rows"] == 2


def test_export_cells_cannot_be_formulas(
    client_for: Callable[[User | None], Client], auditor: User, clerk_a: User
) -> None:
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.SEARCH, detail={"x": "=HYPERLINK(1)"})
    text = client_for(auditor).get(reverse("audit:export")).content.decode("utf-8-sig")
    assert "x='=HYPERLINK" not in text  # the cell starts with the key, and a formula never
    assert all(not line.split(",")[10].startswith("=") for line in text.splitlines()[1:])


def test_export_access(
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    supervisor_a: User,
    auditor: User,
    admin_user: User,
) -> None:
    url = reverse("audit:export")
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url).status_code == 403
    assert client_for(admin_user).get(url).status_code == 403
    assert client_for(supervisor_a).get(url).status_code == 200
    assert client_for(auditor).get(url).status_code == 200


def test_the_django_admin_does_not_show_the_access_log(
    client_for: Callable[[User | None], Client], admin_user: User, rows: Any
) -> None:
    client = client_for(admin_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert "アクセス記録" not in index
    assert client.get("/admin/audit/accesslog/").status_code == 404
    assert client.get(reverse("audit:log")).status_code == 403


@pytest.mark.parametrize("chosen", [None, "clerk_a"])
def test_the_staff_filter_has_the_markup_of_a_plain_select(
    chosen: str | None, auditor: User, clerk_a: User, supervisor_a: User
) -> None:
    """StaffSelect writes its options itself (speed); the HTML is Django's Select's."""
    from django import forms
    from django.test.html import parse_html

    from apps.audit.forms import LogFilterForm, StaffSelect
    from apps.audit.selectors import staff_for_audit

    data = {"actor": str(clerk_a.pk)} if chosen else None
    form = LogFilterForm(data, staff=staff_for_audit(auditor))
    ours = str(form["actor"])
    field = form.fields["actor"]
    assert isinstance(field, forms.ModelChoiceField)
    assert isinstance(field.widget, StaffSelect)
    field.widget = forms.Select(choices=field.widget.choices)
    assert parse_html(ours) == parse_html(str(form["actor"]))
    assert ours.count("<option") == 1 + User.objects.count()
    assert (f'value="{clerk_a.pk}" selected' in ours) is bool(chosen)
