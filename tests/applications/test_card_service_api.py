"""The card services through the API (staff sessions): the same services and refusals as the
screens (R-CRT-2, R-PIN-1, R-CRT-5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import Office, User
from apps.applications.models import CardProcedure
from apps.cards.models import Card
from apps.certificates.models import Certificate, CertificateState, PinState
from apps.certificates.rules import PinKind
from apps.certificates.services import pin_state_observe, pin_states_initialize
from apps.fees.services import fee_schedule_seed_default
from apps.residents.models import Resident
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def holder(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> Card:
    fee_schedule_seed_default()
    resident = make_resident(office_a, birth_date=date(2015, 1, 1))
    return make_card(resident, applied_on=date(2024, 4, 20), issued_on=date(2024, 5, 15))


def test_r_crt_2_the_certificate_api_refuses_an_under_15s_signing_with_the_reason(
    holder: Card, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    client = client_for(clerk_a)
    body: dict[str, Any] = {
        "resident_id": str(holder.resident_id),
        "action": "issue",
        "kind": "signing",
        "serial": "ab12",
        "applicant_type": "legal_rep",
        "applicant_name": "山田 太郎",
        "documents": ["drivers_license", "legal_rep_proof"],
    }
    refused = _post(client, "/api/applications/certificates/", body)
    assert refused.status_code == 400
    assert "15歳未満の方には署名用電子証明書" in refused.json()["non_field_errors"][0]
    body.update(kind="auth", legal_rep_requests=True)
    done = _post(client, "/api/applications/certificates/", body)
    assert done.status_code == 201, done.content
    assert done.json()["fee_amount_yen"] == 0
    assert Certificate.objects.get(card=holder).state == CertificateState.ACTIVE


def test_r_pin_1_the_lock_release_api_across_two_visits(
    holder: Card, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    pin_states_initialize(acting_user=FIXTURES, card=holder)
    pin_state_observe(acting_user=FIXTURES, card=holder, kind=PinKind.AUTH, tries_left=0)
    client = client_for(clerk_a)
    # The holder is 11: an ordinary proxy cannot act for them; their legal representative can.
    proxy = {
        "resident_id": str(holder.resident_id),
        "pins": ["auth"],
        "card_presented": True,
        "applicant_type": "proxy",
        "applicant_name": "佐藤 次郎",
        "documents": ["drivers_license", "proxy_letter"],
    }
    assert _post(client, "/api/applications/lock-releases/", proxy).status_code == 400
    Resident.objects.filter(pk=holder.resident_id).update(birth_date=date(1990, 1, 1))
    created = _post(client, "/api/applications/lock-releases/", proxy)
    assert created.status_code == 201, created.content
    application_id = created.json()["id"]
    assert created.json()["state"] == "received"
    complete = f"/api/applications/{application_id}/lock-release/complete/"
    assert _post(client, complete, {}).status_code == 400  # before the answer
    code = CardProcedure.objects.get(pk=application_id).letter_code
    answer = f"/api/applications/{application_id}/lock-release/answer/"
    docs = ["drivers_license", "proxy_letter"]
    assert _post(client, answer, {"letter_code": "WRONG222", "documents": docs}).status_code == 400
    assert _post(client, answer, {"letter_code": code, "documents": docs}).status_code == 200
    done = _post(client, complete, {})
    assert done.status_code == 200
    assert done.json()["state"] == "done"
    assert PinState.objects.get(card=holder, kind=PinKind.AUTH).tries_left == 3


def test_r_crt_5_the_return_api_ends_the_card(
    holder: Card, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    response = _post(
        client_for(clerk_a),
        "/api/applications/card-returns/",
        {"resident_id": str(holder.resident_id), "reason": "city_cancel"},
    )
    assert response.status_code == 201, response.content
    holder.refresh_from_db()
    assert holder.state == "void"
