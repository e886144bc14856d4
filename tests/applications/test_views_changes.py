"""The card-change screens and API through the real stack (R-CHG-1, R-CHG-2, R-CHG-4,
R-EXP-3): a form in, the service's message or error out, the resident page showing it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState, ExpressReason
from apps.applications.services import application_pay
from apps.applications.services_changes import (
    Applicant,
    ContinuedUseInput,
    continued_use_receive,
)
from apps.cards.models import Endorsement
from apps.fees.rules import ReissueReason
from apps.residents.models import Resident
from tests.applications.helpers import LICENSE, receive


@pytest.fixture
def holder(make_resident: Any, make_card: Any, office_a: Any) -> Resident:
    resident: Resident = make_resident(office_a)
    make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    return resident


def _url(resident: Resident, slug: str) -> str:
    return reverse("applications:change_new", args=[resident.pk, slug])


def test_r_chg_1_address_form_then_resident_page(
    clerk_a: User, holder: Resident, client_for: Callable[[User | None], Client]
) -> None:
    client = client_for(clerk_a)
    page = client.get(_url(holder, "address-change"))
    assert page.status_code == 200
    assert "追記欄" in page.content.decode()
    response = client.post(
        _url(holder, "address-change"),
        {
            "address": "みどり市本町3丁目",
            "applicant_type": "holder",
            "documents": ["drivers_license"],
        },
    )
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "住所変更 みどり市本町3丁目" in detail
    resident_page = client.get(reverse("residents:detail", args=[holder.pk])).content.decode()
    assert "data-endorsements" in resident_page
    assert "追記欄に記載：" in resident_page  # the card history row, with the clerk


def test_r_chg_1_bad_form_is_a_japanese_400(
    clerk_a: User, holder: Resident, client_for: Callable[[User | None], Client]
) -> None:
    response = client_for(clerk_a).post(
        _url(holder, "address-change"), {"applicant_type": "holder"}
    )
    assert response.status_code == 400
    assert "本人確認書類が不足" in response.content.decode() or "必須" in response.content.decode()
    assert not Endorsement.objects.exists()


def test_r_chg_2_full_field_offers_the_free_reissue(
    clerk_a: User, holder: Resident, client_for: Callable[[User | None], Client], settings: Any
) -> None:
    settings.ENDORSEMENT_CAPACITY = 1
    client = client_for(clerk_a)
    data = {"applicant_type": "holder", "documents": ["drivers_license"]}
    client.post(_url(holder, "address-change"), {**data, "address": "みどり市本町1丁目"})
    page = client.get(_url(holder, "address-change")).content.decode()
    assert "data-endorsement-full" in page
    offer = reverse("applications:new", args=[holder.pk, "reissue"]) + "?reason=endorsement_full"
    assert offer in page
    reissue = client.get(offer).content.decode()
    chosen = re.search(r'<input[^>]*value="endorsement_full"[^>]*>', reissue)
    assert chosen is not None
    assert "checked" in chosen.group(0)
    refused = client.post(_url(holder, "address-change"), {**data, "address": "みどり市本町2丁目"})
    assert refused.status_code == 400
    assert "追記欄に余白がありません" in refused.content.decode()


def test_r_chg_4_due_list_and_api(
    clerk_a: User,
    clerk_b: User,
    holder: Resident,
    client_for: Callable[[User | None], Client],
) -> None:
    today = timezone.localdate()
    continued_use_receive(
        acting_user=clerk_a,
        resident=holder,
        data=ContinuedUseInput(
            applicant=Applicant(documents=LICENSE),
            planned_move_out_on=today - timedelta(days=80),
            moved_in_on=today - timedelta(days=80),
            move_in_notice_on=today - timedelta(days=80),
            register_now=False,
        ),
        on=today,
    )
    page = client_for(clerk_a).get(reverse("applications:continued_use_due")).content.decode()
    assert holder.full_name in page
    other = client_for(clerk_b).get(reverse("applications:continued_use_due")).content.decode()
    assert holder.full_name not in other
    api = client_for(clerk_a).get(reverse("applications-api:continued-use-due")).json()
    assert [row["resident_id"] for row in api] == [str(holder.pk)]


def test_api_address_change(
    clerk_a: User, holder: Resident, client_for: Callable[[User | None], Client]
) -> None:
    response = client_for(clerk_a).post(
        reverse("applications-api:changes"),
        {
            "resident_id": str(holder.pk),
            "kind": ApplicationKind.ADDRESS_CHANGE.value,
            "documents": ["drivers_license"],
            "address": "みどり市本町7丁目",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == ApplicationState.DONE
    assert "住所変更 みどり市本町7丁目" in body["endorsement_text"]
    refused = client_for(clerk_a).post(
        reverse("applications-api:changes"),
        {"resident_id": str(holder.pk), "kind": "address_change", "address": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "documents" in refused.json()


def test_r_exp_3_express_steps_through_the_screen(
    clerk_a: User, holder: Resident, client_for: Callable[[User | None], Client]
) -> None:
    today = timezone.localdate()
    application = receive(
        clerk_a,
        holder,
        ApplicationKind.REISSUE,
        on=today,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第5号",
        express=True,
        express_reason=ExpressReason.CARD_LOST,
        express_event_on=today,
    )
    application_pay(acting_user=clerk_a, application=application, idempotency_key="x1")
    client = client_for(clerk_a)
    detail = reverse("applications:detail", args=[application.pk])
    assert "発送を記録する" in client.get(detail).content.decode()
    step = reverse("applications:express_step", args=[application.pk, "posted"])
    client.post(step, {"on": today.isoformat(), "issued_on": today.isoformat()})
    application.refresh_from_db()
    assert application.state == ApplicationState.POSTED
    step = reverse("applications:express_step", args=[application.pk, "delivered"])
    client.post(step, {"on": today.isoformat()})
    application = Application.objects.get(pk=application.pk)
    assert application.state == ApplicationState.DELIVERED
    assert application.new_card is not None
    assert application.new_card.state == "active"


def test_r_exp_1_reissue_form_takes_express_and_the_preview_quotes_it(
    clerk_a: User, holder: Resident, client_for: Callable[[User | None], Client]
) -> None:
    """R-EXP-1 on the reissue form (the case and its day), R-EXP-2 in the fee preview."""
    client = client_for(clerk_a)
    form = client.get(reverse("applications:new", args=[holder.pk, "reissue"])).content.decode()
    assert 'name="express"' in form
    assert 'data-show-when="express"' in form
    preview = client.get(
        reverse("fees:quote"),
        {
            "procedure": "reissue",
            "reissue_reason": "lost",
            "with_certificates": "on",
            "express": "on",
        },
    ).content.decode()
    assert "2,000円" in preview
    today = timezone.localdate()
    response = client.post(
        reverse("applications:new", args=[holder.pk, "reissue"]),
        {
            "reissue_reason": "lost",
            "police_report_no": "第9号",
            "applicant_type": "holder",
            "documents": ["drivers_license"],
            "with_certificates": "on",
            "express": "on",
            "express_reason": ExpressReason.CARD_LOST.value,
            "express_event_on": (today - timedelta(days=31)).isoformat(),
        },
    )
    assert response.status_code == 200  # the form again, with the reason on its field
    assert "30日を過ぎた" in response.content.decode()
    assert not Application.objects.filter(resident=holder).exists()
    response = client.post(
        reverse("applications:new", args=[holder.pk, "reissue"]),
        {
            "reissue_reason": "lost",
            "police_report_no": "第9号",
            "applicant_type": "holder",
            "documents": ["drivers_license"],
            "with_certificates": "on",
            "express": "on",
            "express_reason": ExpressReason.CARD_LOST.value,
            "express_event_on": (today - timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    application = Application.objects.get(resident=holder)
    assert application.express
    assert application.fee_amount_yen == 2000


def test_r_chg_3_the_card_shows_the_former_surname(
    clerk_a: User,
    make_resident: Any,
    make_card: Any,
    office_a: Any,
    client_for: Callable[[User | None], Client],
) -> None:
    resident = make_resident(office_a, former_surname="鈴木", former_surname_kana="スズキ")
    make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    client = client_for(clerk_a)
    response = client.post(
        _url(resident, "former-surname"),
        {"applicant_type": "holder", "documents": ["drivers_license"]},
    )
    assert response.status_code == 302
    page = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert "山田 [鈴木] 花子" in page
