"""The clerk's application screens: every page for anonymous, forbidden (other office → 404,
wrong role → 403) and permitted access, and the forms doing their work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.accounts.roles import Role
from apps.applications.models import Application, ArrivalImport
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.fees.models import Payment
from apps.fees.rules import ReissueReason
from tests.applications.helpers import arrivals_csv, arrive, receive
from tests.custody.helpers import ready_to_hand_over
from tests.factories import bulk_cards, bulk_residents


@dataclass
class World:
    resident: Any
    card: Card
    waiting: Application  # a reissue after loss, fee due
    waiver: Application  # a first issue … replaced below by a not-holder-fault reissue


@pytest.fixture
def world(clerk_a: User, make_resident: Any, office_a: Office, make_card: Any) -> World:
    resident = make_resident(office_a)
    card = make_card(resident)
    waiting = receive(
        clerk_a,
        resident,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第1号",
    )
    other = make_resident(office_a, family_name_kana="スズキ")
    make_card(other)
    waiver = receive(
        clerk_a,
        other,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.NOT_HOLDER_FAULT,
        waiver_reason="ICチップ不良",
    )
    return World(resident=resident, card=card, waiting=waiting, waiver=waiver)


@pytest.fixture
def supervisor_b(office_b: Office) -> User:
    return User.objects.create_user(
        username="supervisor_b", password="x" * 12, role=Role.SUPERVISOR, office=office_b
    )


def _pages(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    a = world.waiting.pk
    return [
        ("get", reverse("applications:new", args=[world.resident.pk, "reissue"]), {}),
        ("get", reverse("applications:detail", args=[a]), {}),
        ("get", reverse("applications:pay", args=[a]), {"method": "cash"}),
        ("post", reverse("applications:pay", args=[a]), {"method": "cash"}),
        ("post", reverse("applications:cancel", args=[a]), {"reason": "取下げ"}),
        ("get", reverse("applications:handover", args=[a]), {}),
    ]


@pytest.mark.django_db
def test_anonymous_users_go_to_the_login_page(
    world: World, client_for: Callable[[User | None], Client]
) -> None:
    client = client_for(None)
    pages = [
        *_pages(world),
        ("get", reverse("applications:uncollected"), {}),
        ("get", reverse("applications:arrivals"), {}),
        ("post", reverse("applications:approve_waiver", args=[world.waiver.pk]), {}),
    ]
    for method, url, data in pages:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert reverse("account_login") in response["Location"]
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_wrong_role_is_forbidden(
    world: World, auditor: User, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    client = client_for(auditor)
    for method, url, data in [
        *_pages(world),
        ("get", reverse("applications:uncollected"), {}),
        ("get", reverse("applications:arrivals"), {}),
    ]:
        assert getattr(client, method)(url, data).status_code == 403, url
    # Approving a waiver is a supervisor's job (R-REI-3).
    response = client_for(clerk_a).post(
        reverse("applications:approve_waiver", args=[world.waiver.pk])
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_other_office_gets_not_found(
    world: World,
    clerk_b: User,
    supervisor_b: User,
    client_for: Callable[[User | None], Client],
) -> None:
    client = client_for(clerk_b)
    for method, url, data in _pages(world):
        assert getattr(client, method)(url, data).status_code == 404, url
    response = client_for(supervisor_b).post(
        reverse("applications:approve_waiver", args=[world.waiver.pk])
    )
    assert response.status_code == 404
    assert Application.objects.get(pk=world.waiting.pk).state == ApplicationState.RECEIVED


@pytest.mark.django_db
def test_resident_page_offers_the_procedures(
    world: World, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    response = client_for(clerk_a).get(reverse("residents:detail", args=[world.resident.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "手続" in body
    for slug in ("first-issue", "renewal", "reissue"):
        assert reverse("applications:new", args=[world.resident.pk, slug]) in body
    assert reverse("applications:detail", args=[world.waiting.pk]) in body


@pytest.mark.django_db
def test_reissue_form_refuses_without_the_police_number(
    clerk_a: User, make_resident: Any, office_a: Office, make_card: Any, client_for: Any
) -> None:
    """R-REI-1 on the screen: the form says what is missing and writes nothing."""
    resident = make_resident(office_a)
    make_card(resident)
    url = reverse("applications:new", args=[resident.pk, "reissue"])
    client = client_for(clerk_a)
    page = client.get(url)
    assert page.status_code == 200
    assert "autofocus" in page.content.decode()
    response = client.post(
        url,
        {"reissue_reason": "lost", "applicant_type": "holder", "documents": ["drivers_license"]},
    )
    assert response.status_code == 200
    assert "受理番号が必要です" in response.content.decode()
    assert Application.objects.count() == 0
    response = client.post(
        url,
        {
            "reissue_reason": "lost",
            "police_report_no": "第55号",
            "applicant_type": "holder",
            "documents": ["drivers_license"],
            "with_certificates": "on",
        },
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[application.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "1,000円" in detail  # the fee before payment
    assert "領収の確認へ" in detail


@pytest.mark.django_db
def test_hidden_evidence_does_not_count(
    clerk_a: User, make_resident: Any, office_a: Office, make_card: Any, client_for: Any
) -> None:
    """A field hidden for the chosen reason (typed before the reason changed) is ignored."""
    resident = make_resident(office_a)
    make_card(resident)
    response = client_for(clerk_a).post(
        reverse("applications:new", args=[resident.pk, "reissue"]),
        {
            "reissue_reason": "stolen",
            "lost_at_home": "on",  # ticked under "lost", then the reason changed
            "police_report_no": "第56号",
            "disaster_certificate_no": "罹災1",
            "applicant_type": "holder",
            "documents": ["passport"],
        },
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert not application.lost_at_home
    assert application.disaster_certificate_no == ""


@pytest.mark.django_db
def test_pay_then_receipt(world: World, clerk_a: User, client_for: Any) -> None:
    client = client_for(clerk_a)
    url = reverse("applications:pay", args=[world.waiting.pk])
    confirm = client.get(url, {"method": "cash"})
    assert confirm.status_code == 200
    submission = confirm.context["form"]["submission"].value()
    response = client.post(url, {"method": "cash", "submission": submission})
    assert response.status_code == 302
    application = Application.objects.get(pk=world.waiting.pk)
    assert application.state == ApplicationState.ORDERED
    assert application.payment is not None
    detail = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "第000001号" in detail
    assert reverse("fees:receipt", args=[application.payment.pk]) in detail
    # The confirmation is not shown again once the fee is paid.
    assert client.get(url, {"method": "cash"}).status_code == 302
    # A confirmation opened in another tab before the payment finds the fee paid.
    again = client.post(url, {"method": "cash", "submission": str(uuid.uuid4())})
    assert again.status_code == 400
    assert "領収済" in again.content.decode()
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_supervisor_approves_the_waiver(world: World, supervisor_a: User, client_for: Any) -> None:
    client = client_for(supervisor_a)
    page = client.get(reverse("applications:detail", args=[world.waiver.pk])).content.decode()
    assert "免除を承認する" in page
    response = client.post(reverse("applications:approve_waiver", args=[world.waiver.pk]))
    assert response.status_code == 302
    assert Application.objects.get(pk=world.waiver.pk).state == ApplicationState.ORDERED


@pytest.mark.django_db
def test_cancel_needs_a_reason(world: World, clerk_a: User, client_for: Any) -> None:
    client = client_for(clerk_a)
    url = reverse("applications:cancel", args=[world.waiting.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "本人の申出"}).status_code == 302
    assert Application.objects.get(pk=world.waiting.pk).state == ApplicationState.CANCELLED


@pytest.mark.django_db
def test_handover_screen_checklist(
    clerk_a: User, make_resident: Any, office_a: Office, client_for: Any
) -> None:  # the card arrives through the import service (the upload is tested apart)
    """R-ISS-3 / R-PIN-3 on the screen: notification card asked, PINs only ticked."""
    today = timezone.localdate()
    resident = make_resident(office_a)
    application = receive(clerk_a, resident, ApplicationKind.FIRST_ISSUE)
    client = client_for(clerk_a)
    # Not arrived yet: back to the application.
    url = reverse("applications:handover", args=[application.pk])
    assert client.get(url).status_code == 302
    arrive(clerk_a, application, issued_on=today)
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "通知カード" in body
    assert "暗証番号の設定が済んだ" in body
    assert 'type="password"' not in body
    incomplete = client.post(url, {"applicant_type": "holder", "documents": ["drivers_license"]})
    assert incomplete.status_code == 400
    assert "通知カードの返納" in incomplete.content.decode()
    assert "交付前設定" in incomplete.content.decode()  # R-HND-1 on the same screen
    ready_to_hand_over(clerk_a, application)
    done = client.post(
        url,
        {
            "applicant_type": "holder",
            "documents": ["drivers_license"],
            "pins_set": "on",
            "notification_card": "returned",
            "extra_identity_check": "on",
        },
    )
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.state == ApplicationState.HANDED_OVER
    assert application.new_card_id is not None
    assert Card.objects.get(pk=application.new_card_id).state == CardState.ACTIVE


@pytest.mark.django_db
def test_arrivals_page_import_and_reimport(
    clerk_a: User,
    make_resident: Any,
    office_a: Office,
    client_for: Any,
    celery_eager: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    today = timezone.localdate()
    application = receive(clerk_a, make_resident(office_a), ApplicationKind.FIRST_ISSUE)
    content = arrivals_csv([(application.new_card_id, today, today)])
    client = client_for(clerk_a)
    url = reverse("applications:arrivals")
    assert "card_id,issued_on,arrived_on" in client.get(url).content.decode()
    # The import runs as a task after the upload commits (here in-process).
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"file": SimpleUploadedFile("a.csv", content)})
    assert first.status_code == 302
    assert "到着を記録 <strong>1件</strong>" in client.get(first["Location"]).content.decode()
    second = client.post(url, {"file": SimpleUploadedFile("a.csv", content)}, follow=True)
    assert "受け付け済です" in second.content.decode()
    assert ArrivalImport.objects.count() == 1
    bad = content + b"nope,2026-01-01,2026-01-01\n"
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(url, {"file": SimpleUploadedFile("b.csv", bad)})
    page = client.get(refused["Location"]).content.decode()
    assert 'data-import-state="failed"' in page
    assert "3行目" in page
    header_only = client.post(url, {"file": SimpleUploadedFile("c.csv", b"id\n")})
    assert header_only.status_code == 400  # refused at once, before any task
    assert "1行目" in header_only.content.decode()


@pytest.mark.django_db
def test_uncollected_list_by_age_and_scoped(
    clerk_a: User,
    clerk_b: User,
    make_resident: Any,
    office_a: Office,
    make_card: Any,
    client_for: Any,
) -> None:
    today = timezone.localdate()
    old = make_card(
        make_resident(office_a),
        state=CardState.ARRIVED,
        applied_on=today - timedelta(days=200),
        issued_on=today - timedelta(days=120),
        arrived_on=today - timedelta(days=100),
    )
    recent = make_card(
        make_resident(office_a, family_name_kana="サトウ"),
        state=CardState.ARRIVED,
        applied_on=today - timedelta(days=40),
        issued_on=today - timedelta(days=6),
        arrived_on=today - timedelta(days=5),
    )
    body = client_for(clerk_a).get(reverse("applications:uncollected")).content.decode()
    assert body.index('data-days="100"') < body.index('data-days="5"')
    assert "90日以上" in body
    assert "30日未満" in body
    assert str(old.resident.full_name) in body
    assert recent.resident_id
    other = client_for(clerk_b).get(reverse("applications:uncollected")).content.decode()
    assert 'data-days="' not in other


@pytest.mark.django_db
def test_legal_representative_applies_for_a_child_on_the_form(
    clerk_a: User, make_resident: Any, office_a: Office, client_for: Any
) -> None:
    """R-ISS-2 on the screen: the representative's name is kept, the holder's refusal shown."""
    child = make_resident(office_a, birth_date=timezone.localdate() - timedelta(days=365 * 8))
    url = reverse("applications:new", args=[child.pk, "first-issue"])
    client = client_for(clerk_a)
    refused = client.post(url, {"applicant_type": "holder", "documents": ["passport"]})
    assert "法定代理人" in refused.content.decode()
    response = client.post(
        url,
        {
            "applicant_type": "legal_rep",
            "applicant_name": "山田 太郎",
            "documents": ["drivers_license", "legal_rep_proof"],
        },
    )
    assert response.status_code == 302
    assert Application.objects.get().applicant_name == "山田 太郎"


@pytest.mark.django_db
def test_uncollected_list_pages_through_the_offices_stock_by_cursor(
    clerk_a: User, clerk_b: User, office_a: Office, office_b: Office, client_for: Any
) -> None:
    """R-ISS-1: 100 a page, oldest first, keyed by the card's office; no count, no OFFSET."""
    today = timezone.localdate()

    def waiting(office: Office, n: int) -> list[Card]:
        return bulk_cards(
            bulk_residents(office, n),
            state=CardState.ARRIVED,
            expires_on=lambda k: today + timedelta(days=3000),
            arrived_on=lambda k: today - timedelta(days=120 - k // 10),  # ten a day
        )

    mine = waiting(office_a, 105)
    waiting(office_b, 3)
    oldest_first = sorted(mine, key=lambda card: (card.arrived_on, str(card.pk)))
    client = client_for(clerk_a)
    url = reverse("applications:uncollected")
    first = client.get(url)
    assert [row.card.pk for row in first.context["rows"]] == [c.pk for c in oldest_first[:100]]
    html = first.content.decode()
    assert "次の100件 →" in html
    assert "件（" not in html  # the stock is not counted
    following = client.get(url, {"after": first.context["page"].next_cursor})
    assert [row.card.pk for row in following.context["rows"]] == [c.pk for c in oldest_first[100:]]
    assert following.context["page"].is_last
    last = client.get(url, {"page": "last"})
    assert [row.card.pk for row in last.context["rows"]] == [c.pk for c in oldest_first[5:]]
    assert last.context["page"].has_previous
