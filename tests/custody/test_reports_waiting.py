"""What custody records reaches the supervisor: the home's waiting items and the security
report (issue 12 items 1 and 7, fed by R-HND-2 and R-STK-2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.custody.services import daily_count_record, daily_count_resolve, handover_read_check
from apps.reports import selectors
from apps.reports.rules import Period
from apps.reports.selectors import Filters
from tests.custody.helpers import place_of, read_card, set_up

pytestmark = pytest.mark.django_db


def test_r_hnd_2_r_stk_2_the_supervisors_home_counts_blocked_handovers_and_open_differences(
    clerk_a: User,
    supervisor_a: User,
    make_arrived: Any,
    client_for: Callable[[User | None], Client],
) -> None:
    mine = make_arrived(family_name_kana="ミギ")
    other = make_arrived(family_name_kana="ヒダリ")
    set_up(clerk_a, mine)
    other_custody = set_up(clerk_a, other)
    assert clerk_a.counter is not None
    read_card(clerk_a.counter, other_custody.auth_serial)  # the wrong card on the reader
    handover_read_check(acting_user=clerk_a, application=mine)  # red: blocked and logged
    # Two cards in the safe, one counted: a difference that waits for the supervisor.
    count = daily_count_record(
        acting_user=clerk_a, place=place_of(clerk_a), counted=1, on=timezone.localdate()
    )

    body = client_for(supervisor_a).get(reverse("reports:home")).content.decode()
    assert 'data-waiting-count="blocked-handovers">1件' in body
    assert 'data-waiting-count="count-differences">1件' in body
    assert reverse("custody:reconciliation") in body

    today = timezone.localdate()
    report = selectors.security_report(
        user=supervisor_a, filters=Filters(period=Period(today, today))
    )
    assert report.table("blocked_handovers").rows == [("本庁 1番窓口", 1)]

    daily_count_resolve(acting_user=supervisor_a, count=count, note="交付トレイに1枚あった")
    body = client_for(supervisor_a).get(reverse("reports:home")).content.decode()
    assert 'data-waiting-count="count-differences">0件' in body
