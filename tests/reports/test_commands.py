"""`manage.py reports_refresh`: what `make run` runs so the demo's reports show its data."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.reports import selectors
from apps.reports.rules import Period
from apps.reports.selectors import Filters
from apps.residents.models import Resident


@pytest.mark.django_db
def test_reports_refresh_computes_the_nightly_summaries(
    supervisor_a: User,
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> None:
    today = timezone.localdate()
    card = make_card(make_resident(office_a))
    Card.objects.filter(pk=card.pk).update(expires_on=today.replace(day=28))

    def cards_this_month() -> int:
        report = selectors.wave_report(
            user=supervisor_a, filters=Filters(period=Period(today, today)), today=today
        )
        total = report.table("months").rows[0][4]  # this month's cards, every class
        assert isinstance(total, int)
        return total

    assert cards_this_month() == 0  # the nightly views have not seen the card yet
    out = io.StringIO()
    call_command("reports_refresh", stdout=out)
    assert "reports refreshed" in out.getvalue()
    assert cards_this_month() == 1
