"""Each role lands on its own home right after signing in (the auditor and the admin used to
land on a bare English "403 Forbidden"): clerk → search, supervisor → what waits for them (the
reports' home),
auditor → the access log, admin → staff and devices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.mfa import totp_code
from apps.accounts.models import Counter, Office, User
from apps.applications.rules import ApplicationKind
from apps.cards.rules import CardState
from apps.fees.rules import ReissueReason
from apps.fees.services import daily_close_record
from tests.applications.helpers import receive
from tests.auth import enrol_totp

PASSWORD = "test-pass-123456"


def _sign_in(user: User) -> tuple[Client, Any]:
    """Through the real sign-in form and its second factor, following every redirect."""
    secret = enrol_totp(user)
    client = Client()
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)}, follow=True)
    return client, response


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "lands_on"),
    [
        ("clerk_a", "residents:search"),
        ("supervisor_a", "reports:home"),
        ("auditor", "audit:log"),
        ("admin_user", "home:admin"),
    ],
)
def test_each_role_lands_on_its_own_home(
    persona: str, lands_on: str, request: pytest.FixtureRequest
) -> None:
    user: User = request.getfixturevalue(persona)
    _, response = _sign_in(user)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(lands_on)
    body = response.content.decode()
    assert "Forbidden" not in body
    assert 'class="topbar"' in body  # the site's layout, signed in


@pytest.mark.django_db
def test_the_supervisors_home_shows_what_waits(
    clerk_a: User,
    supervisor_a: User,
    counter_a: Counter,
    office_a: Office,
    make_resident: Callable[..., Any],
    make_card: Callable[..., Any],
    client_for: Callable[[User | None], Client],
) -> None:
    today = timezone.localdate()
    # A waiver to approve (R-REI-3), and one the supervisor asked for himself.
    for n, user in enumerate((clerk_a, supervisor_a)):
        holder = make_resident(office_a, family_name_kana=f"テスト{n}")
        make_card(holder)
        receive(
            user,
            holder,
            ApplicationKind.REISSUE,
            reissue_reason=ReissueReason.NOT_HOLDER_FAULT,
            waiver_reason=f"ICチップ不良{n}",
        )
    # Counter 1 closed with a difference, counter 2 not closed.
    Counter.objects.create(office=office_a, code="2", name="2番窓口")
    daily_close_record(
        acting_user=clerk_a,
        counter=counter_a,
        business_date=today,
        counted_cash_yen=500,
        note="釣銭の誤り",
    )
    # Two cards waiting: one for 100 days, one for 10.
    for days in (100, 10):
        make_card(
            make_resident(office_a, family_name_kana=f"マチ{days}"),
            state=CardState.ARRIVED,
            applied_on=today - timedelta(days=days + 30),
            issued_on=today - timedelta(days=days + 5),
            arrived_on=today - timedelta(days=days),
        )
    page = client_for(supervisor_a).get(reverse("reports:home"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "承認待ちの手数料の免除" in body
    assert "ICチップ不良0" in body
    assert "ICチップ不良1" in body
    assert "ご本人の申出：別の監督者が承認します" in body  # four eyes, said in words
    assert "未締め 1窓口・差額あり 1窓口" in body
    assert "+500円" in body
    # The reports' bands (calendar months): 100 days is 3–6 months, 10 days under a month.
    assert 'data-band="3〜6か月">1件' in body
    assert 'data-band="1か月未満">1件' in body
    assert client_for(clerk_a).get(reverse("reports:home")).status_code == 403


@pytest.mark.django_db
def test_the_admins_home_shows_staff_and_devices(
    admin_user: User, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    page = client_for(admin_user).get(reverse("home:admin"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "職員" in body
    assert "窓口職員</th><td>1人" in body
    assert "読取端末の承認・失効" in body
    assert client_for(clerk_a).get(reverse("home:admin")).status_code == 403
