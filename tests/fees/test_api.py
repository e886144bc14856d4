"""The fee API: quote, schedules, payments, voids, daily closes; anonymous, forbidden and
permitted access."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.fees.models import DailyClose, FeeSchedule, Payment, PaymentVoid
from apps.fees.rules import DEFAULT_FEE_AMOUNTS, Procedure, ReissueReason
from apps.fees.services import fee_quote, payment_record

ClientFor = Callable[[User | None], Client]


@pytest.fixture
def payment(clerk_a: User, make_resident: Any, office_a: Office) -> Payment:
    quote = fee_quote(
        procedure=Procedure.REISSUE, reason=ReissueReason.DAMAGED, on=timezone.localdate()
    )
    return payment_record(acting_user=clerk_a, resident=make_resident(office_a), quote=quote)


@pytest.mark.django_db
def test_anonymous_is_refused(payment: Payment, client_for: ClientFor) -> None:
    client = client_for(None)
    for url in (
        reverse("fees-api:quote") + "?procedure=first_issue",
        reverse("fees-api:schedules"),
        reverse("fees-api:payment", args=[payment.pk]),
        reverse("fees-api:daily-closes"),
    ):
        assert client.get(url).status_code in (401, 403), url
    assert client.post(
        reverse("applications-api:payment-void", args=[payment.pk]),
        {"reason": "x", "outcome": "refund_cancel"},
    ).status_code in (401, 403)
    assert not PaymentVoid.objects.exists()


@pytest.mark.django_db
def test_quote(clerk_a: User, auditor: User, client_for: ClientFor) -> None:
    url = reverse("fees-api:quote")
    assert client_for(auditor).get(url, {"procedure": "reissue"}).status_code == 403
    response = client_for(clerk_a).get(
        url, {"procedure": "reissue", "reason": "lost", "with_certificates": "true"}
    )
    assert response.status_code == 200
    assert response.json()["amount_yen"] == 1000
    assert response.json()["rule"].startswith("R-REI table")
    later = client_for(clerk_a).get(
        url, {"procedure": "renewal", "old_card_returned": "false", "with_certificates": "false"}
    )
    assert later.json()["amount_yen"] == 800
    bad = client_for(clerk_a).get(url, {"procedure": "reissue"})
    assert bad.status_code == 400
    assert "再交付の理由" in bad.content.decode()


@pytest.mark.django_db
def test_payment_scoping_and_void(
    payment: Payment,
    clerk_a: User,
    clerk_b: User,
    supervisor_a: User,
    office_b: Office,
    client_for: ClientFor,
) -> None:
    detail = reverse("fees-api:payment", args=[payment.pk])
    assert client_for(clerk_b).get(detail).status_code == 404
    assert client_for(clerk_a).get(detail).json()["receipt_number"] == 1
    void = reverse("applications-api:payment-void", args=[payment.pk])
    refund = {"outcome": "refund_cancel"}
    assert client_for(clerk_a).post(void, {"reason": "x", **refund}).status_code == 403
    supervisor_b = User.objects.create_user(
        username="sb", password="x" * 12, role=Role.SUPERVISOR, office=office_b
    )
    assert client_for(supervisor_b).post(void, {"reason": "x", **refund}).status_code == 404
    assert client_for(supervisor_a).post(void, {"reason": "", **refund}).status_code == 400
    assert client_for(supervisor_a).post(void, {"reason": "二重領収"}).status_code == 400
    done = client_for(supervisor_a).post(void, {"reason": "二重領収", **refund})
    assert done.status_code == 200
    assert done.json()["voided"] is True


@pytest.mark.django_db
def test_schedules(supervisor_a: User, clerk_a: User, client_for: ClientFor) -> None:
    listing = client_for(clerk_a).get(reverse("fees-api:schedules"))
    assert listing.status_code == 200
    assert listing.json()[0]["in_force"] is True
    body = {
        "starts_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "amounts": {row.value: amount for row, amount in DEFAULT_FEE_AMOUNTS.items()},
    }
    url = reverse("fees-api:schedules")
    assert client_for(clerk_a).post(url, body, content_type="application/json").status_code == 403
    created = client_for(supervisor_a).post(url, body, content_type="application/json")
    assert created.status_code == 201
    assert FeeSchedule.objects.count() == 2
    body["amounts"] = {"first_issue_free": 0}
    partial = client_for(supervisor_a).post(url, body, content_type="application/json")
    assert partial.status_code == 400


@pytest.mark.django_db
def test_daily_close(
    payment: Payment, clerk_a: User, clerk_b: User, counter_a: Counter, client_for: ClientFor
) -> None:
    body = {
        "counter_id": str(counter_a.pk),
        "business_date": timezone.localdate().isoformat(),
        "counted_cash_yen": 1000,
    }
    url = reverse("fees-api:daily-closes")
    assert client_for(clerk_b).post(url, body, content_type="application/json").status_code == 400
    response = client_for(clerk_a).post(url, body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["has_difference"] is False
    assert response.json()["lines"] == [
        {"fee_row": "reissue_damage_with_certs", "count": 1, "total_yen": 1000}
    ]
    assert DailyClose.objects.count() == 1
    assert client_for(clerk_a).get(url).json()[0]["expected_cash_yen"] == 1000
