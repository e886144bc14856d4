"""Fee screens: anonymous, forbidden (other office → 404, wrong role → 403) and permitted
access; the schedule page, the fee preview, receipts (PDF), voids and the daily close."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.fees.models import DailyClose, FeeSchedule, Payment, PaymentVoid
from apps.fees.rules import DEFAULT_FEE_AMOUNTS, FeeRow, Procedure, ReissueReason
from apps.fees.services import fee_quote, payment_record

ClientFor = Callable[[User | None], Client]


@pytest.fixture
def payment(clerk_a: User, make_resident: Any, office_a: Office) -> Payment:
    quote = fee_quote(
        procedure=Procedure.REISSUE, reason=ReissueReason.LOST, on=timezone.localdate()
    )
    return payment_record(
        acting_user=clerk_a, resident=make_resident(office_a, family_name="佐藤"), quote=quote
    )


@pytest.fixture
def supervisor_b(office_b: Office) -> User:
    return User.objects.create_user(
        username="supervisor_b", password="x" * 12, role=Role.SUPERVISOR, office=office_b
    )


def _staff_pages(payment: Payment) -> list[str]:
    return [
        reverse("fees:schedules"),
        reverse("fees:quote") + "?procedure=reissue&reissue_reason=lost&with_certificates=on",
        reverse("fees:payments"),
        reverse("fees:receipt", args=[payment.pk]),
        reverse("fees:close"),
    ]


def _supervisor_pages(payment: Payment) -> list[str]:
    return [reverse("fees:schedule_new"), reverse("applications:payment_void", args=[payment.pk])]


@pytest.mark.django_db
def test_anonymous_users_go_to_the_login_page(payment: Payment, client_for: ClientFor) -> None:
    client = client_for(None)
    for url in [*_staff_pages(payment), *_supervisor_pages(payment)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("account_login") in response["Location"]
    response = client.post(reverse("applications:payment_void", args=[payment.pk]), {"reason": "x"})
    assert response.status_code == 302
    assert not PaymentVoid.objects.exists()


@pytest.mark.django_db
def test_wrong_role_is_forbidden(
    payment: Payment, auditor: User, clerk_a: User, client_for: ClientFor
) -> None:
    for url in [*_staff_pages(payment), *_supervisor_pages(payment)]:
        assert client_for(auditor).get(url).status_code == 403, url
    # Schedules and voids are a supervisor's: a clerk is refused.
    for url in _supervisor_pages(payment):
        assert client_for(clerk_a).get(url).status_code == 403, url
    response = client_for(clerk_a).post(
        reverse("applications:payment_void", args=[payment.pk]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert not PaymentVoid.objects.exists()


@pytest.mark.django_db
def test_other_office_gets_not_found(
    payment: Payment, clerk_b: User, supervisor_b: User, client_for: ClientFor
) -> None:
    assert client_for(clerk_b).get(reverse("fees:receipt", args=[payment.pk])).status_code == 404
    void_url = reverse("applications:payment_void", args=[payment.pk])
    assert client_for(supervisor_b).get(void_url).status_code == 404
    refund = {"reason": "x", "outcome": "refund_cancel"}
    assert client_for(supervisor_b).post(void_url, refund).status_code == 404
    listing = client_for(clerk_b).get(reverse("fees:payments")).content.decode()
    assert payment.receipt_label not in listing


@pytest.mark.django_db
def test_permitted_pages(payment: Payment, clerk_a: User, client_for: ClientFor) -> None:
    client = client_for(clerk_a)
    for url in _staff_pages(payment):
        assert client.get(url).status_code == 200, url
    listing = client.get(reverse("fees:payments")).content.decode()
    assert payment.receipt_label in listing


@pytest.mark.django_db
def test_fee_preview_shows_amount_and_rule(clerk_a: User, client_for: ClientFor) -> None:
    client = client_for(clerk_a)
    url = reverse("fees:quote")
    body = client.get(url, {"procedure": "reissue", "reissue_reason": "lost"}).content.decode()
    assert "800円" in body  # no with_certificates ticked
    body = client.get(
        url, {"procedure": "reissue", "reissue_reason": "stolen", "with_certificates": "on"}
    ).content.decode()
    assert "1,000円" in body
    assert "再交付（紛失・盗難・電子証明書あり）" in body  # the row, in words
    assert "R-REI" not in body  # not the rule ids: the clerk reads words
    body = client.get(
        url, {"procedure": "renewal", "old_card_lost": "on", "with_certificates": "on"}
    ).content.decode()
    assert "1,000円" in body
    assert "更新（旧カード返納なし・電子証明書あり）" in body
    body = client.get(url, {"procedure": "reissue"}).content.decode()
    assert "理由を選ぶ" in body


@pytest.mark.django_db
def test_receipt_pdf_in_japanese_with_the_city_and_amount(
    payment: Payment, clerk_a: User, client_for: ClientFor, settings: Any
) -> None:
    settings.CITY_NAME = "みどり市"
    response = client_for(clerk_a).get(reverse("fees:receipt", args=[payment.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "領収書" in text
    assert "みどり市" in text
    assert "1,000" in text
    assert "第000001号" in text
    assert "佐藤" in text


@pytest.mark.django_db
def test_supervisor_voids_with_a_reason(
    payment: Payment, supervisor_a: User, clerk_a: User, client_for: ClientFor
) -> None:
    client = client_for(supervisor_a)
    url = reverse("applications:payment_void", args=[payment.pk])
    assert client.post(url, {"reason": "", "outcome": "refund_cancel"}).status_code == 400
    assert client.post(url, {"reason": "金額誤り", "outcome": "refund_cancel"}).status_code == 302
    assert PaymentVoid.objects.get(payment=payment).reason == "金額誤り"
    assert Payment.objects.filter(pk=payment.pk).exists()
    pdf = client_for(clerk_a).get(reverse("fees:receipt", args=[payment.pk])).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "取消" in text


@pytest.mark.django_db
def test_schedule_page_and_new_schedule(supervisor_a: User, client_for: ClientFor) -> None:
    client = client_for(supervisor_a)
    listing = client.get(reverse("fees:schedules")).content.decode()
    assert "適用中" in listing
    assert "新しい手数料表を登録" in listing
    starts = timezone.localdate() + timedelta(days=30)
    data: dict[str, Any] = {"starts_on": starts.isoformat(), "note": "改定"}
    data |= {row.value: amount for row, amount in DEFAULT_FEE_AMOUNTS.items()}
    data[FeeRow.REISSUE_LOSS_WITH_CERTS.value] = 1100
    response = client.post(reverse("fees:schedule_new"), data)
    assert response.status_code == 302
    assert FeeSchedule.objects.filter(starts_on=starts, created_by=supervisor_a).exists()
    assert "予定" in client.get(reverse("fees:schedules")).content.decode()
    data["starts_on"] = timezone.localdate().isoformat()
    refused = client.post(reverse("fees:schedule_new"), data)
    assert refused.status_code == 400
    assert "明日以降" in refused.content.decode()


@pytest.mark.django_db
def test_daily_close_page(
    payment: Payment, clerk_a: User, counter_a: Counter, client_for: ClientFor
) -> None:
    client = client_for(clerk_a)
    page = client.get(reverse("fees:close")).content.decode()
    assert 'data-expected-cash="1000"' in page
    today = timezone.localdate().isoformat()
    data = {"counter": counter_a.pk, "business_date": today, "counted_cash_yen": 900}
    refused = client.post(reverse("fees:close"), data)
    assert refused.status_code == 400
    assert "差額" in refused.content.decode()
    done = client.post(reverse("fees:close"), data | {"note": "100円不足"}, follow=True)
    assert "差額があります" in done.content.decode()
    assert 'data-difference="-100"' in done.content.decode()
    assert DailyClose.objects.get(counter=counter_a).has_difference


@pytest.mark.django_db
def test_daily_close_of_another_office_counter_is_refused(
    clerk_b: User, counter_a: Counter, client_for: ClientFor
) -> None:
    data = {
        "counter": counter_a.pk,
        "business_date": timezone.localdate().isoformat(),
        "counted_cash_yen": 0,
    }
    assert client_for(clerk_b).post(reverse("fees:close"), data).status_code == 400
    assert not DailyClose.objects.exists()
