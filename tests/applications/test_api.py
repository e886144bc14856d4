"""The application API: the same services and permissions as the screens. Every endpoint for
anonymous (403), forbidden (wrong role 403, other office 404) and permitted access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.fees.models import Payment
from apps.fees.rules import ReissueReason
from tests.applications.helpers import arrivals_csv, receive
from tests.custody.helpers import ready_to_hand_over

ClientFor = Callable[[User | None], Client]


@pytest.fixture
def resident(make_resident: Any, office_a: Office, make_card: Any) -> Any:
    resident = make_resident(office_a)
    make_card(resident)
    return resident


@pytest.fixture
def waiting(clerk_a: User, resident: Any) -> Application:
    return receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第1号",
    )


def _reissue_body(resident: Any, **extra: Any) -> dict[str, Any]:
    return {
        "resident_id": str(resident.pk),
        "kind": "reissue",
        "reissue_reason": "stolen",
        "police_report_no": "第2号",
        "documents": ["passport"],
        **extra,
    }


def _endpoints(waiting: Application) -> list[tuple[str, str, dict[str, Any]]]:
    a = waiting.pk
    return [
        ("get", reverse("applications-api:detail", args=[a]), {}),
        ("post", reverse("applications-api:pay", args=[a]), {"method": "cash"}),
        ("post", reverse("applications-api:cancel", args=[a]), {"reason": "x"}),
        (
            "post",
            reverse("applications-api:hand-over", args=[a]),
            {"documents": ["passport"], "pins_set": True},
        ),
    ]


@pytest.mark.django_db
def test_anonymous_is_refused(waiting: Application, resident: Any, client_for: ClientFor) -> None:
    client = client_for(None)
    endpoints = [
        *_endpoints(waiting),
        ("post", reverse("applications-api:create"), _reissue_body(resident)),
        ("get", reverse("applications-api:uncollected"), {}),
        ("post", reverse("applications-api:approve-waiver", args=[waiting.pk]), {}),
    ]
    for method, url, data in endpoints:
        response = getattr(client, method)(url, data, content_type="application/json")
        assert response.status_code in (401, 403), url
    response = client.post(reverse("applications-api:arrivals"), {})
    assert response.status_code in (401, 403)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_wrong_role_and_other_office(
    waiting: Application,
    resident: Any,
    auditor: User,
    clerk_a: User,
    clerk_b: User,
    client_for: ClientFor,
) -> None:
    for method, url, data in _endpoints(waiting):
        response = getattr(client_for(auditor), method)(url, data, content_type="application/json")
        assert response.status_code == 403, url
        response = getattr(client_for(clerk_b), method)(url, data, content_type="application/json")
        assert response.status_code == 404, url
    create = client_for(clerk_b).post(
        reverse("applications-api:create"),
        _reissue_body(resident),
        content_type="application/json",
    )
    assert create.status_code == 404
    approve = client_for(clerk_a).post(
        reverse("applications-api:approve-waiver", args=[waiting.pk])
    )
    assert approve.status_code == 403
    assert Application.objects.get(pk=waiting.pk).state == ApplicationState.RECEIVED


@pytest.mark.django_db
def test_create_refuses_without_evidence_then_accepts(
    resident: Any, clerk_a: User, client_for: ClientFor
) -> None:
    """R-REI-1 through the API: a 400 naming the field, then a 201."""
    client = client_for(clerk_a)
    url = reverse("applications-api:create")
    refused = client.post(
        url, _reissue_body(resident, police_report_no=""), content_type="application/json"
    )
    assert refused.status_code == 400
    assert "police_report_no" in refused.json()
    created = client.post(url, _reissue_body(resident), content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["fee_amount_yen"] == 1000
    assert body["fee_row"] == "reissue_loss_with_certs"
    assert "R-REI" in body["fee_rule"]
    assert body["state"] == "received"
    assert body["fee_settled"] is False
    assert "applicant_name" not in body


@pytest.mark.django_db
def test_pay_arrive_hand_over_through_the_api(
    waiting: Application,
    clerk_a: User,
    client_for: ClientFor,
    celery_eager: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(clerk_a)
    paid = client.post(
        reverse("applications-api:pay", args=[waiting.pk]),
        {"method": "cash"},
        content_type="application/json",
        headers={"Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201
    assert paid.json()["receipt_number"] == 1
    assert paid.json()["amount_yen"] == 1000
    detail = client.get(reverse("applications-api:detail", args=[waiting.pk])).json()
    assert detail["state"] == "ordered"
    assert detail["payment"]["receipt_number"] == 1
    today = timezone.localdate()
    content = arrivals_csv([(detail["new_card_id"], today, today)])
    with django_capture_on_commit_callbacks(execute=True):  # the import task, in-process
        imported = client.post(
            reverse("applications-api:arrivals"), {"file": SimpleUploadedFile("a.csv", content)}
        )
    assert imported.status_code == 202
    assert imported.json()["state"] == "queued"
    status = client.get(imported.json()["status_url"]).json()
    assert (status["state"], status["applied_count"]) == ("done", 1)
    again = client.post(
        reverse("applications-api:arrivals"), {"file": SimpleUploadedFile("a.csv", content)}
    )
    assert again.status_code == 200
    assert again.json()["id"] == imported.json()["id"]
    waiting_cards = client.get(reverse("applications-api:uncollected")).json()
    assert [row["card_id"] for row in waiting_cards["results"]] == [detail["new_card_id"]]
    assert waiting_cards["next"] is None
    refused = client.post(
        reverse("applications-api:hand-over", args=[waiting.pk]),
        {"documents": ["passport"], "pins_set": False},
        content_type="application/json",
    )
    assert refused.status_code == 400
    blocked = client.post(
        reverse("applications-api:hand-over", args=[waiting.pk]),
        {"documents": ["passport"], "pins_set": True, "extra_identity_check": True},
        content_type="application/json",
    )
    assert blocked.status_code == 400  # R-HND-1: no card was set up and read yet
    assert "交付前設定" in blocked.content.decode()
    ready_to_hand_over(clerk_a, waiting)
    handed = client.post(
        reverse("applications-api:hand-over", args=[waiting.pk]),
        {"documents": ["passport"], "pins_set": True, "extra_identity_check": True},
        content_type="application/json",
    )
    assert handed.status_code == 200
    assert handed.json()["state"] == "handed_over"
    assert Card.objects.get(pk=detail["new_card_id"]).state == CardState.ACTIVE


@pytest.mark.django_db
def test_arrivals_api_reports_the_bad_line(
    clerk_a: User,
    client_for: ClientFor,
    celery_eager: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    header = client_for(clerk_a).post(
        reverse("applications-api:arrivals"), {"file": SimpleUploadedFile("h.csv", b"id\n")}
    )
    assert header.status_code == 400  # the file itself: refused at once
    assert header.json()["problems"][0]["line"] == 1
    content = arrivals_csv([("not-a-card", "2026-11-20", "2026-11-21")])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clerk_a).post(
            reverse("applications-api:arrivals"), {"file": SimpleUploadedFile("b.csv", content)}
        )
    assert response.status_code == 202
    status = client_for(clerk_a).get(response.json()["status_url"]).json()
    assert status["state"] == "failed"
    assert status["problems"][0]["line"] == 2


@pytest.mark.django_db
def test_supervisor_approves_a_waiver_through_the_api(
    resident: Any, clerk_a: User, supervisor_a: User, client_for: ClientFor
) -> None:
    created = (
        client_for(clerk_a)
        .post(
            reverse("applications-api:create"),
            {
                "resident_id": str(resident.pk),
                "kind": "reissue",
                "reissue_reason": "not_holder_fault",
                "waiver_reason": "J-LISの誤り",
                "documents": ["drivers_license"],
            },
            content_type="application/json",
        )
        .json()
    )
    assert created["waiver_pending"] is True
    approved = client_for(supervisor_a).post(
        reverse("applications-api:approve-waiver", args=[created["id"]])
    )
    assert approved.status_code == 200
    assert approved.json()["state"] == "ordered"


@pytest.mark.django_db
def test_openapi_schema_documents_the_procedures(clerk_a: User, client_for: ClientFor) -> None:
    response = client_for(clerk_a).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/applications/",
        "/api/applications/{application_id}/pay/",
        "/api/applications/{application_id}/hand-over/",
        "/api/applications/arrivals/",
        "/api/fees/quote/",
        "/api/applications/payments/{payment_id}/void/",
        "/api/fees/daily-closes/",
        "/api/fees/schedules/",
    ):
        assert path in paths, path
