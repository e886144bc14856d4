from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AccessLog, Action
from apps.audit.selectors import _start_of, access_logs_for
from apps.audit.services import access_log_record

pytestmark = pytest.mark.django_db


def test_r_aud_2_access_log_is_append_only_for_the_application(clerk_a: User) -> None:
    """The test run connects as madoguchi_app, like the server: the ORM cannot rewrite."""
    with transaction.atomic():
        row = access_log_record(actor=clerk_a, action=Action.SEARCH)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(action=Action.EXPORT)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    assert AccessLog.objects.get().action == Action.SEARCH


@pytest.mark.django_db(transaction=True)
def test_access_log_must_share_the_callers_transaction(clerk_a: User) -> None:
    with pytest.raises(RuntimeError):
        access_log_record(actor=clerk_a, action=Action.SEARCH)


def test_r_myn_2_reveal_row_needs_a_purpose(clerk_a: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.REVEAL_MY_NUMBER)


def test_audit_page_access(
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    supervisor_a: User,
    auditor: User,
    clerk_b: User,
) -> None:
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.SEARCH)
        access_log_record(actor=clerk_b, action=Action.SEARCH)
    url = reverse("audit:log")
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url).status_code == 403
    city_wide = client_for(auditor).get(url, {"action": "search"})
    assert city_wide.status_code == 200
    assert [row.actor.username for row in city_wide.context["page"]] == ["clerk_b", "clerk_a"]
    own_office = client_for(supervisor_a).get(url, {"action": "search"})
    assert [row.actor.username for row in own_office.context["page"]] == ["clerk_a"]
    # clerk_a's 403 above is itself on record.
    assert [
        row.actor.username
        for row in client_for(auditor).get(url, {"action": "denied"}).context["page"]
    ] == ["clerk_a"]


def test_audit_page_filters_by_action(
    client_for: Callable[[User | None], Client], clerk_a: User, auditor: User
) -> None:
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.SEARCH)
        access_log_record(actor=clerk_a, action=Action.VIEW_RESIDENT)
    page = client_for(auditor).get(reverse("audit:log"), {"action": "search"}).context["page"]
    assert [row.action for row in page] == ["search"]


def test_the_period_is_a_range_of_instants_from_midnight_in_the_citys_time_zone(
    auditor: User,
) -> None:
    """``at__date`` would cast every row (no index); the filter is [from 00:00, to+1 00:00)."""
    assert _start_of(date(2026, 1, 5)) == datetime(2026, 1, 4, 15, 0, tzinfo=UTC)
    logs = access_logs_for(auditor, date_from=date(2026, 1, 5), date_to=date(2026, 1, 6))
    where = str(logs.query).split("WHERE", 1)[1]
    assert '"audit_accesslog"."at" >= 2026-01-05 00:00:00+09:00' in where
    assert '"audit_accesslog"."at" < 2026-01-07 00:00:00+09:00' in where
    assert "::date" not in where
    assert "AT TIME ZONE" not in where


def test_the_period_filter_finds_todays_rows_and_only_within_it(
    client_for: Callable[[User | None], Client], clerk_a: User, auditor: User
) -> None:
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.SEARCH)
    today = timezone.localdate()
    day = timedelta(days=1)
    url = reverse("audit:log")

    def listed(**period: date) -> int:
        params = {name: value.isoformat() for name, value in period.items()}
        return len(client_for(auditor).get(url, params).context["page"])

    assert listed(date_from=today, date_to=today) == 1
    assert listed(date_from=today) == 1
    assert listed(date_to=today - day) == 0
    assert listed(date_from=today + day) == 0


def test_the_log_pages_newest_first_by_cursor_and_counts_nothing(
    client_for: Callable[[User | None], Client], clerk_a: User, auditor: User
) -> None:
    with transaction.atomic():
        rows = [access_log_record(actor=clerk_a, action=Action.SEARCH) for _ in range(105)]
    newest_first = [row.pk for row in reversed(rows)]
    client = client_for(auditor)
    url = reverse("audit:log")
    first = client.get(url, {"action": "search"})
    page = first.context["page"]
    assert [row.pk for row in page] == newest_first[:100]
    html = first.content.decode()
    assert "古い100件 →" in html
    assert "最も古い記録 »" in html
    assert "← 新しい100件" not in html
    assert re.search(r"\d+ / \d+", html) is None  # no "page 1 / 2": nothing counted
    older = client.get(url, {"action": "search", "after": page.next_cursor}).context["page"]
    assert [row.pk for row in older] == newest_first[100:]
    assert older.is_last
    last = client.get(url, {"action": "search", "page": "last"}).context["page"]
    assert [row.pk for row in last] == newest_first[5:]
    assert last.has_previous
