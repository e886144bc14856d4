"""Payment is a deliberate step: one more Enter on the application page must not record a cash
payment. The pay button has no autofocus, leads to a confirmation that shows the amount and
the method, and only the confirmation records the payment."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind
from apps.fees.models import Payment
from apps.fees.rules import ReissueReason
from tests.applications.helpers import receive


@pytest.fixture
def owed(clerk_a: User, make_resident: Any, office_a: Office, make_card: Any) -> Application:
    resident = make_resident(office_a)
    make_card(resident)
    return receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第3号",
    )


@pytest.mark.django_db
def test_the_application_page_takes_no_payment_on_enter(
    owed: Application, clerk_a: User, client_for: Any
) -> None:
    page = client_for(clerk_a).get(reverse("applications:detail", args=[owed.pk])).content.decode()
    fee = page[page.index('id="fee"') : page.index("新しいカード")]
    assert "autofocus" not in fee
    pay_form = re.search(r"<form[^>]*applications/[^>]*/pay/[^>]*>", fee)
    assert pay_form is not None
    assert 'method="get"' in pay_form.group(0)  # it leads to the confirmation, nothing more
    assert "領収の確認へ" in fee


@pytest.mark.django_db
def test_the_confirmation_shows_amount_and_method(
    owed: Application, clerk_a: User, client_for: Any
) -> None:
    url = reverse("applications:pay", args=[owed.pk])
    client = client_for(clerk_a)
    cash = client.get(url, {"method": "cash"}).content.decode()
    assert 'data-confirm-amount="1000"' in cash
    assert "1,000円を現金で領収する" in cash
    cashless = client.get(url, {"method": "cashless"}).content.decode()
    assert "1,000円をキャッシュレス決済で領収する" in cashless
    assert client.get(url, {"method": "card"}).status_code == 400
    # The confirmation's focus is on "やめる", not on the button that takes the money.
    button = re.search(r"<button[^>]*>[^<]*を現金で領収する", cash)
    assert button is not None
    assert "autofocus" not in button.group(0)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_a_payment_not_from_the_confirmation_is_refused(
    owed: Application, clerk_a: User, client_for: Any
) -> None:
    """What the old page's Enter sent (method only) records nothing."""
    response = client_for(clerk_a).post(
        reverse("applications:pay", args=[owed.pk]), {"method": "cash"}
    )
    assert response.status_code == 400
    assert "確認画面で金額と支払方法を確かめてから領収してください" in response.content.decode()
    assert Payment.objects.count() == 0
