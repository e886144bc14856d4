"""Who may open what: every URL pattern and API route × every persona → the status it gets.

One table, NetBox's view-test idea: each route says, for each persona, what the server
answers. ``login`` is the redirect to the sign-in page; a permitted request is sent with an
empty or harmless body, so it proves the gates let it through (200, a form's 400, a redirect)
without doing anything (each request runs in a savepoint that is rolled back).

The personas (docs/architecture.md): anonymous, a clerk at office A (with a counter), a clerk at
office B, a supervisor at A, the auditor, the system administrator, and an approved reader
device that signs its requests. The world they look at belongs to office A, so office B's clerk
must get 404 wherever a row is named, never 403 (she may not learn that it exists).

``test_every_route_is_in_the_table`` walks the URL configuration: a new route (or a new method
of an API view) that is not in ``TABLE`` fails the suite. Django admin's routes are checked as
one group at the end (the admin has its own staff gate).

To add a route: add a row to ``TABLE`` with the method, how to build its URL from the world,
the body to send and the status of each persona (policy.py decides; this says what it decided).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.arrivals import arrival_import_submit, arrivals_import
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, IdentityDocument
from apps.applications.services import ApplicationInput, application_pay, application_receive
from apps.cards.models import Card
from apps.cards.services import card_arrive, card_hand_over, card_order
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from apps.counters.httpsig import fingerprint
from apps.counters.models import Device
from apps.counters.services import device_approve
from apps.custody.models import Place, PlaceKind, SecondCheckReason
from apps.custody.services import (
    daily_count_record,
    destruction_request,
    lot_receive,
    second_check_request,
)
from apps.fees.models import Payment
from apps.fees.rules import ReissueReason
from apps.fees.services import daily_close_record, fee_schedule_seed_default
from apps.notices.models import NoticeBatch
from apps.notices.services import batch_render, notices_run
from apps.residents.models import Resident
from apps.residents.services import ResidentData, resident_register
from tests.actors import FIXTURES
from tests.auth import mfa_login
from tests.conftest import valid_my_number
from tests.counters.helpers import encode, raw_public_key, read_payload, signed_headers

PERSONAS = ("anonymous", "clerk_a", "clerk_b", "supervisor_a", "auditor", "admin", "device")
LOGIN = "login"  # 302 to the sign-in page
ANY_REDIRECT = "redirect"  # 302 elsewhere: a permitted POST that did its work or said why not
TODAY = date(2026, 11, 27)


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    resident: Resident
    application: Application
    payment: Payment
    batch: NoticeBatch
    device_key: Ed25519PrivateKey
    pending_device: Device
    counter: Counter
    extra: dict[str, Any] = field(default_factory=dict)


def _resident(office: Office, n: int, **data: Any) -> Resident:
    fields: dict[str, Any] = {
        "resident_code": f"9{n:010d}",
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": date(1985, 10, 10),
        "sex": "2",
        "address": "みどり市旭町1丁目1番1号",
        "postal_code": "053-0001",
    }
    fields.update(data)
    return resident_register(
        acting_user=FIXTURES,
        office=office,
        data=ResidentData(**fields),
        my_number=valid_my_number(880_000_000 + n),
    )


def _active_card(resident: Resident, *, issued_on: date) -> Card:
    card = card_order(
        acting_user=FIXTURES, resident=resident, applied_on=issued_on - timedelta(days=20)
    )
    card = card_arrive(acting_user=FIXTURES, card=card, issued_on=issued_on, arrived_on=issued_on)
    return card_hand_over(acting_user=FIXTURES, card=card, on=issued_on)


def _build_world() -> World:
    fee_schedule_seed_default()
    office_a = Office.objects.create(code="ta", name="本庁", kind=Office.Kind.MAIN)
    office_b = Office.objects.create(code="tb", name="支所", kind=Office.Kind.BRANCH)
    counter = Counter.objects.create(office=office_a, code="1", name="1番窓口")

    def user(name: str, role: Role, office: Office | None, **extra: Any) -> User:
        return User.objects.create_user(
            username=f"table_{name}", password="test-pass-123456", role=role, office=office, **extra
        )

    users = {
        "clerk_a": user("clerk_a", Role.CLERK, office_a, counter=counter, designated_handler=True),
        "clerk_b": user("clerk_b", Role.CLERK, office_b, designated_handler=True),
        "supervisor_a": user("supervisor_a", Role.SUPERVISOR, office_a, designated_handler=True),
        "auditor": user("auditor", Role.AUDITOR, office_a),
        "admin": user("admin", Role.ADMIN, None, is_staff=True, is_superuser=True),
    }
    clerk = users["clerk_a"]

    # A resident of office A with a card, reissued after a loss and paid: an application and
    # a payment to name in URLs.
    resident = _resident(office_a, 1)
    card = _active_card(resident, issued_on=date(2020, 5, 15))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="7ab1e",
        issued_on=date(2020, 5, 15),
    )
    application = application_receive(
        acting_user=clerk,
        resident=resident,
        data=ApplicationInput(
            kind=ApplicationKind.REISSUE,
            reissue_reason=ReissueReason.LOST,
            police_report_no="第1号",
            documents=frozenset({IdentityDocument.DRIVERS_LICENSE}),
        ),
        on=timezone.localdate(),
    )
    payment = application_pay(acting_user=clerk, application=application).payment
    # Yesterday's close of the counter (to reopen), and an arrivals file waiting for its task.
    closed = daily_close_record(
        acting_user=clerk,
        counter=counter,
        business_date=timezone.localdate() - timedelta(days=1),
        counted_cash_yen=0,
    )
    arrival = arrival_import_submit(
        acting_user=clerk,
        content=b"card_id,issued_on,arrived_on\n"
        + str(uuid.uuid4()).encode()
        + b",2026-11-20,2026-11-21\n",
        filename="a.csv",
        enqueue=False,
    ).record

    # A second resident whose card expires soon: the notice job makes a batch of office A.
    expiring = _resident(office_a, 2, family_name_kana="スズキ")
    old = _active_card(expiring, issued_on=TODAY - timedelta(days=3 * 365))
    Card.objects.filter(pk=old.pk).update(expires_on=TODAY + timedelta(days=60))
    result = notices_run(on=TODAY, render=False)
    batch = NoticeBatch.objects.get(pk=result.batch_ids[0])
    assert batch_render(batch_id=batch.pk)

    device_key = Ed25519PrivateKey.generate()
    raw = raw_public_key(device_key)
    approved = Device.objects.create(name="窓口PC", fingerprint=fingerprint(raw), public_key=raw)
    device_approve(acting_user=users["admin"], device=approved, counter=counter)
    other_raw = raw_public_key(Ed25519PrivateKey.generate())
    pending = Device.objects.create(
        name="新しいPC", fingerprint=fingerprint(other_raw), public_key=other_raw
    )
    # Custody: a first issue whose card arrived 200 days ago (past retention), received into a
    # lot in the office's safe, counted wrong today, recorded for destruction and marked for a
    # second check at handover.
    holder = _resident(office_a, 3, family_name_kana="ホカン")
    waiting = application_receive(
        acting_user=clerk,
        resident=holder,
        data=ApplicationInput(
            kind=ApplicationKind.FIRST_ISSUE,
            documents=frozenset({IdentityDocument.DRIVERS_LICENSE}),
        ),
        on=TODAY - timedelta(days=230),
    )
    came = TODAY - timedelta(days=200)
    arrivals_import(
        acting_user=clerk,
        content=f"card_id,issued_on,arrived_on\n{waiting.new_card_id},{came},{came}\n".encode(),
        filename="custody.csv",
        on=came,
    )
    waiting = Application.objects.get(pk=waiting.pk)
    place = Place.objects.create(office=office_a, name="金庫", kind=PlaceKind.SAFE)
    lot = lot_receive(acting_user=clerk, place=place, arrived_on=came)
    miscount = daily_count_record(acting_user=clerk, place=place, counted=0, on=TODAY)
    assert waiting.new_card is not None
    destruction_request(acting_user=clerk, card=waiting.new_card, on=TODAY)
    second = second_check_request(
        acting_user=clerk, application=waiting, reason=SecondCheckReason.FLAGGED
    )

    # Procedures on a card in use (CARD_SERVICE_KINDS): an ordinary proxy's lock release
    # waiting for its answered letter, and a call-centre CSV import.
    extra_card_services = _card_services_world(office_a, users)
    return World(
        users=users,
        resident=resident,
        application=application,
        payment=payment,
        batch=batch,
        device_key=device_key,
        pending_device=pending,
        counter=counter,
        extra={
            "close": closed,
            "arrival": arrival,
            "waiting": waiting,
            "lot": lot,
            "count": miscount,
            "second": second,
            **extra_card_services,
        },
    )


def _card_services_world(office_a: Office, users: dict[str, User]) -> dict[str, Any]:
    from apps.applications.card_services import Applicant, LockReleaseInput, lock_release_receive
    from apps.applications.rules import ApplicantType
    from apps.cards.suspensions import suspension_import_submit
    from apps.certificates.rules import PinKind

    holder = _resident(office_a, 4, family_name_kana="サトウ")
    card = _active_card(holder, issued_on=date(2024, 5, 15))
    lock_release = lock_release_receive(
        acting_user=users["clerk_a"],
        card=card,
        data=LockReleaseInput(
            applicant=Applicant(
                applicant_type=ApplicantType.PROXY,
                applicant_name="代理 人",
                documents=frozenset(
                    {IdentityDocument.DRIVERS_LICENSE, IdentityDocument.PROXY_LETTER}
                ),
            ),
            pins=frozenset({PinKind.AUTH}),
            card_presented=True,
        ),
    )
    suspension_import = suspension_import_submit(
        acting_user=users["supervisor_a"],
        filename="cc.csv",
        content=b"record_id,resident_code,reported_at,reason\n",
        enqueue=False,
    )
    return {"lock_release": lock_release, "suspension_import": suspension_import}


@pytest.fixture(scope="module")
def world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Built once for the whole table, inside a transaction rolled back at the end."""
    from django.conf import settings

    media = tmp_path_factory.mktemp("media")
    previous = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = media
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            yield _build_world()
            transaction.set_rollback(True)
    finally:
        # Also when the world could not be built: later tests (and the Celery workers they
        # start) must see the same MEDIA_ROOT again.
        settings.MEDIA_ROOT = previous


# --- the table ---------------------------------------------------------------------------------


Status = int | str
Kwargs = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    method: str
    expect: dict[str, Status]
    kwargs: Kwargs = lambda world: {}
    data: Callable[[World], Any] = lambda world: {}
    query: str = ""
    json: bool = False


def _resident_kw(world: World) -> dict[str, Any]:
    return {"resident_id": world.resident.pk}


def _application(world: World) -> dict[str, Any]:
    return {"application_id": world.application.pk}


def _payment(world: World) -> dict[str, Any]:
    return {"payment_id": world.payment.pk}


def _close(world: World) -> dict[str, Any]:
    return {"close_id": world.extra["close"].pk}


def _arrival(world: World) -> dict[str, Any]:
    return {"import_id": world.extra["arrival"].pk}


def _batch(world: World) -> dict[str, Any]:
    return {"batch_id": world.batch.pk}


def _waiting(world: World) -> dict[str, Any]:
    return {"application_id": world.extra["waiting"].pk}


def _waiting_card(world: World) -> dict[str, Any]:
    return {"card_id": world.extra["waiting"].new_card_id}


def _card_service(world: World) -> dict[str, Any]:
    return {"resident_id": world.resident.pk, "kind_slug": "certificate"}


def _lock_release(world: World) -> dict[str, Any]:
    return {"application_id": world.extra["lock_release"].pk}


def _suspension_import(world: World) -> dict[str, Any]:
    return {"import_id": world.extra["suspension_import"].pk}


def _pending_device(world: World) -> dict[str, Any]:
    return {"device_id": world.pending_device.pk}


def personas(
    anonymous: Status,
    clerk_a: Status,
    clerk_b: Status,
    supervisor_a: Status,
    auditor: Status,
    admin: Status,
    device: Status,
) -> dict[str, Status]:
    statuses = (anonymous, clerk_a, clerk_b, supervisor_a, auditor, admin, device)
    return dict(zip(PERSONAS, statuses, strict=True))


# Shorthands for the common shapes (read them as "anonymous, clerk A, clerk B, supervisor A,
# auditor, admin, device"). A device without a session is anonymous to every page.
def staff_page(ok: Status = 200, *, other_office: Status | None = None) -> dict[str, Status]:
    """Clerks and supervisors; ``other_office`` is clerk B's answer when a row of A is named."""
    return personas(LOGIN, ok, ok if other_office is None else other_office, ok, 403, 403, LOGIN)


def supervisor_page(ok: Status = 200, *, clerk_b: Status = 403) -> dict[str, Status]:
    return personas(LOGIN, 403, clerk_b, ok, 403, 403, LOGIN)


def reports_page(ok: Status = 200) -> dict[str, Status]:
    """Supervisors and the auditor (reads the whole city); clerks 403."""
    return personas(LOGIN, 403, 403, ok, ok, 403, LOGIN)


def staff_api(ok: Status, *, other_office: Status | None = None) -> dict[str, Status]:
    return personas(403, ok, ok if other_office is None else other_office, ok, 403, 403, 403)


def supervisor_api(ok: Status) -> dict[str, Status]:
    return personas(403, 403, 403, ok, 403, 403, 403)


def device_api(ok: Status) -> dict[str, Status]:
    return personas(401, 401, 401, 401, 401, 401, ok)


_QUOTE = "?procedure=reissue&reissue_reason=lost&with_certificates=on"

TABLE: dict[tuple[str, str], Row] = {
    # core and accounts
    ("home", "GET"): Row(
        "GET",
        personas(
            LOGIN, ANY_REDIRECT, ANY_REDIRECT, ANY_REDIRECT, ANY_REDIRECT, ANY_REDIRECT, LOGIN
        ),
    ),
    ("healthz", "GET"): Row("GET", personas(200, 200, 200, 200, 200, 200, 200)),
    ("readyz", "GET"): Row("GET", personas(200, 200, 200, 200, 200, 200, 200)),
    # each role's home
    # reports (issue 12): supervisors (their office) and the auditor (the city), read only
    ("reports:home", "GET"): Row("GET", reports_page()),
    ("reports:activity", "GET"): Row("GET", reports_page()),
    ("reports:stock", "GET"): Row("GET", reports_page(), query="?band=1"),
    ("reports:money", "GET"): Row("GET", reports_page()),
    ("reports:wave", "GET"): Row("GET", reports_page()),
    ("reports:reconciliation", "GET"): Row("GET", reports_page()),
    ("reports:security", "GET"): Row("GET", reports_page()),
    ("reports:export", "GET"): Row(
        "GET", reports_page(), lambda w: {"report": "money"}, query="?format=xlsx"
    ),
    # R-NOT-4: the import writes letters: a supervisor's (an empty form is a 400).
    ("reports:reconciliation_import", "POST"): Row("POST", supervisor_page(400)),
    ("home:admin", "GET"): Row("GET", personas(LOGIN, 403, 403, 403, 403, 200, LOGIN)),
    ("api-schema", "GET"): Row("GET", personas(403, 200, 200, 200, 200, 200, 403)),
    # residents
    ("residents:search", "GET"): Row("GET", staff_page()),
    ("residents:search", "POST"): Row("POST", staff_page()),
    ("residents:detail", "GET"): Row("GET", staff_page(other_office=404), _resident_kw),
    ("residents:reveal", "POST"): Row("POST", staff_page(other_office=404), _resident_kw),
    # audit
    ("audit:log", "GET"): Row("GET", personas(LOGIN, 403, 403, 200, 200, 403, LOGIN)),
    ("audit:export", "GET"): Row("GET", personas(LOGIN, 403, 403, 200, 200, 403, LOGIN)),
    ("audit:by_resident_code", "POST"): Row(
        "POST", personas(LOGIN, 403, 403, ANY_REDIRECT, ANY_REDIRECT, 403, LOGIN)
    ),
    ("audit:alert_ack", "POST"): Row(
        "POST", personas(LOGIN, 403, 403, 404, 403, 403, LOGIN), lambda w: {"alert_id": 1}
    ),
    # applications (screens)
    ("applications:new", "GET"): Row(
        "GET",
        staff_page(other_office=404),
        lambda w: {"resident_id": w.resident.pk, "kind_slug": "reissue"},
    ),
    ("applications:uncollected", "GET"): Row("GET", staff_page()),
    ("applications:arrivals", "GET"): Row("GET", staff_page()),
    ("applications:arrivals", "POST"): Row("POST", staff_page(400)),
    ("applications:arrival", "GET"): Row("GET", staff_page(other_office=404), _arrival),
    ("applications:detail", "GET"): Row("GET", staff_page(other_office=404), _application),
    # The confirmation (the fee is paid here, so it goes back to the application) and the
    # payment, refused without the confirmation's key.
    ("applications:pay", "GET"): Row(
        "GET", staff_page(ANY_REDIRECT, other_office=404), _application, query="?method=cash"
    ),
    ("applications:pay", "POST"): Row("POST", staff_page(400, other_office=404), _application),
    ("applications:payment_void", "GET"): Row("GET", supervisor_page(), _payment),
    ("applications:payment_void", "POST"): Row("POST", supervisor_page(400), _payment),
    ("applications:approve_waiver", "POST"): Row(
        "POST", supervisor_page(ANY_REDIRECT), _application
    ),
    ("applications:cancel", "POST"): Row("POST", staff_page(400, other_office=404), _application),
    ("applications:handover", "GET"): Row(
        "GET", staff_page(ANY_REDIRECT, other_office=404), _application
    ),
    # fees (screens)
    ("fees:schedules", "GET"): Row("GET", staff_page()),
    ("fees:schedule_new", "GET"): Row("GET", supervisor_page()),
    ("fees:schedule_new", "POST"): Row("POST", supervisor_page(400)),
    ("fees:quote", "GET"): Row("GET", staff_page(), query=_QUOTE),
    ("fees:payments", "GET"): Row("GET", staff_page()),
    ("fees:receipt", "GET"): Row("GET", staff_page(other_office=404), _payment),
    ("fees:close", "GET"): Row("GET", staff_page()),
    ("fees:close", "POST"): Row("POST", staff_page(400)),
    ("fees:reopen", "GET"): Row("GET", supervisor_page(), _close),
    ("fees:reopen", "POST"): Row("POST", supervisor_page(400), _close),
    # notices
    ("notices:lookup", "GET"): Row("GET", staff_page()),
    ("notices:lookup", "POST"): Row("POST", staff_page()),
    ("notices:returned", "POST"): Row("POST", staff_page(400)),
    ("notices:batches", "GET"): Row("GET", supervisor_page()),
    ("notices:batch", "GET"): Row("GET", supervisor_page(), _batch),
    ("notices:batch-progress", "GET"): Row("GET", supervisor_page(), _batch),
    ("notices:batch-render", "POST"): Row("POST", supervisor_page(ANY_REDIRECT), _batch),
    ("notices:batch-printed", "POST"): Row("POST", supervisor_page(ANY_REDIRECT), _batch),
    ("notices:batch-posted", "POST"): Row("POST", supervisor_page(ANY_REDIRECT), _batch),
    ("notices:batch-download", "GET"): Row(
        "GET", supervisor_page(), lambda w: {"batch_id": w.batch.pk, "fmt": "csv"}
    ),
    # counters (screens): the live panel needs a counter (only clerk A has one here)
    ("counters:live", "GET"): Row("GET", staff_page()),
    ("counters:live_stream", "GET"): Row("GET", personas(LOGIN, 200, 404, 404, 403, 403, LOGIN)),
    ("counters:devices", "GET"): Row("GET", personas(LOGIN, 403, 403, 403, 403, 200, LOGIN)),
    ("counters:device_approve", "POST"): Row(
        "POST", personas(LOGIN, 403, 403, 403, 403, ANY_REDIRECT, LOGIN), _pending_device
    ),
    ("counters:device_revoke", "POST"): Row(
        "POST", personas(LOGIN, 403, 403, 403, 403, ANY_REDIRECT, LOGIN), _pending_device
    ),
    # procedures on a card in use (screens and API)
    ("applications:card_service_new", "GET"): Row(
        "GET", staff_page(other_office=404), _card_service
    ),
    ("applications:card_service_new", "POST"): Row(
        "POST", staff_page(400, other_office=404), _card_service
    ),
    ("applications:lock_release_letter", "GET"): Row(
        "GET", staff_page(other_office=404), _lock_release
    ),
    ("applications:lock_release_answer", "POST"): Row(
        "POST", staff_page(400, other_office=404), _lock_release
    ),
    ("applications:lock_release_done", "POST"): Row(
        "POST", staff_page(ANY_REDIRECT, other_office=404), _lock_release
    ),
    ("counters:suspension_lift", "GET"): Row("GET", staff_page(other_office=404), _resident_kw),
    ("counters:suspension_lift", "POST"): Row(
        "POST", staff_page(400, other_office=404), _resident_kw
    ),
    ("cards:suspension_imports", "GET"): Row("GET", supervisor_page()),
    ("cards:suspension_imports", "POST"): Row("POST", supervisor_page(400)),
    ("cards:suspension_import", "GET"): Row("GET", supervisor_page(), _suspension_import),
    ("applications-api:certificate-procedure", "POST"): Row("POST", staff_api(400), json=True),
    ("applications-api:lock-release", "POST"): Row("POST", staff_api(400), json=True),
    ("applications-api:lock-release-answer", "POST"): Row(
        "POST", staff_api(400, other_office=404), _lock_release, json=True
    ),
    ("applications-api:lock-release-complete", "POST"): Row(
        "POST", staff_api(400, other_office=404), _lock_release, json=True
    ),
    ("applications-api:card-return", "POST"): Row("POST", staff_api(400), json=True),
    ("counters-staff-api:suspension-lift", "POST"): Row("POST", staff_api(400), json=True),
    # The call centre's feed: its own bearer credential only (tests/cards/test_suspension_feed
    # shows the client itself getting in); no session and no device signature opens it.
    ("cards_api:suspensions", "POST"): Row(
        "POST", personas(401, 401, 401, 401, 401, 401, 401), json=True
    ),
    # applications API
    ("applications-api:create", "POST"): Row("POST", staff_api(400), json=True),
    ("applications-api:arrivals", "POST"): Row("POST", staff_api(400)),
    ("applications-api:uncollected", "GET"): Row("GET", staff_api(200)),
    ("applications-api:arrival", "GET"): Row("GET", staff_api(200, other_office=404), _arrival),
    ("applications-api:payment-void", "POST"): Row(
        "POST", supervisor_api(400), _payment, json=True
    ),
    ("applications-api:detail", "GET"): Row("GET", staff_api(200, other_office=404), _application),
    ("applications-api:pay", "POST"): Row(
        "POST", staff_api(400, other_office=404), _application, json=True
    ),
    ("applications-api:approve-waiver", "POST"): Row(
        "POST", supervisor_api(400), _application, json=True
    ),
    ("applications-api:hand-over", "POST"): Row(
        "POST", staff_api(400, other_office=404), _application, json=True
    ),
    ("applications-api:cancel", "POST"): Row(
        "POST", staff_api(400, other_office=404), _application, json=True
    ),
    # fees API
    ("fees-api:quote", "GET"): Row(
        "GET", staff_api(200), query="?procedure=reissue&reason=lost&with_certificates=true"
    ),
    ("fees-api:schedules", "GET"): Row("GET", staff_api(200)),
    ("fees-api:schedules", "POST"): Row("POST", supervisor_api(400), json=True),
    ("fees-api:payment", "GET"): Row("GET", staff_api(200, other_office=404), _payment),
    ("fees-api:daily-closes", "GET"): Row("GET", staff_api(200)),
    ("fees-api:daily-closes", "POST"): Row("POST", staff_api(400), json=True),
    ("fees-api:daily-close-reopen", "POST"): Row("POST", supervisor_api(400), _close, json=True),
    # the reader agent's API: device signatures only (enrollment is open, and checks its body)
    ("counters_api:enroll", "POST"): Row(
        "POST", personas(400, 400, 400, 400, 400, 400, 400), json=True
    ),
    ("counters_api:reads", "POST"): Row(
        "POST", device_api(201), data=lambda w: read_payload(), json=True
    ),
    ("counters_api:heartbeats", "POST"): Row(
        "POST",
        device_api(204),
        data=lambda w: {
            "sent_at": timezone.now().isoformat(),
            "agent_version": "0.1.0",
            "reader_name": "Virtual PCD 00 00",
            "reader_status": "ok",
        },
        json=True,
    ),
}

# Issue 10: card changes, continued use and express posting (screens and API).
TABLE.update(
    {
        ("applications:change_new", "GET"): Row(
            "GET",
            staff_page(other_office=404),
            lambda w: {"resident_id": w.resident.pk, "kind_slug": "address-change"},
        ),
        ("applications:change_new", "POST"): Row(
            "POST",
            staff_page(400, other_office=404),
            lambda w: {"resident_id": w.resident.pk, "kind_slug": "address-change"},
        ),
        ("applications:continued_use_due", "GET"): Row("GET", staff_page()),
        ("applications:express_step", "POST"): Row(
            "POST",
            staff_page(ANY_REDIRECT, other_office=404),
            lambda w: {"application_id": w.application.pk, "step": "delivered"},
        ),
        ("applications-api:changes", "POST"): Row("POST", staff_api(400), json=True),
        ("applications-api:continued-use-due", "GET"): Row("GET", staff_api(200)),
        ("applications-api:express-step", "POST"): Row(
            "POST",
            staff_api(400, other_office=404),
            lambda w: {"application_id": w.application.pk, "step": "delivered"},
            json=True,
        ),
    }
)

# The sign-in pages (allauth, routed one by one in config/urls.py: no sign-up, no e-mail and no
# self-service password reset). Every session here has its second factor (tests/auth.py);
# apps.custody (R-HND, R-STK): the stock, setup, one card's custody, counts, reconciliation,
# the handover interlock and the second check.
_CUSTODY_CARD = personas(LOGIN, 200, 404, 200, 200, 403, LOGIN)  # the auditor reads any card
TABLE.update(
    {
        ("custody:index", "GET"): Row("GET", staff_page()),
        ("custody:places", "GET"): Row("GET", supervisor_page()),
        ("custody:places", "POST"): Row("POST", supervisor_page(400)),
        ("custody:lot-receive", "POST"): Row("POST", staff_page(ANY_REDIRECT)),
        ("custody:setup", "GET"): Row(
            "GET", staff_page(other_office=404), lambda w: {"lot_id": w.extra["lot"].pk}
        ),
        ("custody:setup", "POST"): Row(
            "POST",
            staff_page(ANY_REDIRECT, other_office=404),
            lambda w: {"lot_id": w.extra["lot"].pk},
            data=lambda w: {"card": str(w.extra["waiting"].new_card_id), "read": "1"},
        ),
        ("custody:card", "GET"): Row("GET", _CUSTODY_CARD, _waiting_card),
        ("custody:move", "POST"): Row(
            "POST", staff_page(ANY_REDIRECT, other_office=404), _waiting_card
        ),
        ("custody:destroy-request", "POST"): Row(
            "POST", staff_page(ANY_REDIRECT, other_office=404), _waiting_card
        ),
        ("custody:destroy-approve", "POST"): Row(
            "POST", supervisor_page(ANY_REDIRECT), _waiting_card
        ),
        ("custody:counts", "GET"): Row("GET", staff_page()),
        ("custody:counts", "POST"): Row("POST", staff_page(ANY_REDIRECT)),
        ("custody:count-resolve", "POST"): Row(
            "POST", supervisor_page(ANY_REDIRECT), lambda w: {"count_id": w.extra["count"].pk}
        ),
        ("custody:reconciliation", "GET"): Row("GET", staff_page()),
        # The supervisor has no counter: the check answers why (400), it judges nothing.
        ("custody:handover-check", "POST"): Row(
            "POST", personas(LOGIN, 200, 404, 400, 403, 403, LOGIN), _waiting
        ),
        ("custody:second-check-request", "POST"): Row(
            "POST", staff_page(ANY_REDIRECT, other_office=404), _waiting
        ),
        ("custody:second-checks", "GET"): Row("GET", staff_page()),
        ("custody:second-check-confirm", "POST"): Row(
            "POST",
            staff_page(ANY_REDIRECT, other_office=404),
            lambda w: {"check_id": w.extra["second"].pk},
        ),
    }
)

# tests/accounts/test_mfa.py walks every route with a password-only session.
_SIGN_IN = personas(200, 302, 302, 302, 302, 302, 200)
_SIGNED_IN_ONLY = personas(LOGIN, 200, 200, 200, 200, 200, LOGIN)
_SIGNED_IN_REDIRECT = personas(
    LOGIN, ANY_REDIRECT, ANY_REDIRECT, ANY_REDIRECT, ANY_REDIRECT, ANY_REDIRECT, LOGIN
)
_EVERYONE = personas(200, 200, 200, 200, 200, 200, 200)
_NO_FACTOR_YET = personas(LOGIN, 404, 404, 404, 404, 404, LOGIN)  # the table's users have none
TABLE.update(
    {
        ("account_login", "GET"): Row("GET", _SIGN_IN),
        ("account_logout", "GET"): Row("GET", personas(302, 200, 200, 200, 200, 200, 302)),
        ("account_inactive", "GET"): Row("GET", _EVERYONE),
        ("account_reauthenticate", "GET"): Row("GET", _SIGNED_IN_ONLY),
        ("account_change_password", "GET"): Row("GET", _SIGNED_IN_ONLY),
        ("session_keepalive", "POST"): Row("POST", _SIGNED_IN_ONLY),
        ("session_status", "GET"): Row("GET", _SIGNED_IN_ONLY),
        ("mfa_index", "GET"): Row("GET", _SIGNED_IN_ONLY),
        ("mfa_authenticate", "GET"): Row("GET", _SIGNED_IN_REDIRECT),
        ("mfa_reauthenticate", "GET"): Row("GET", _SIGNED_IN_REDIRECT),  # no factor yet
        ("mfa_activate_totp", "GET"): Row("GET", _SIGNED_IN_REDIRECT),
        ("mfa_deactivate_totp", "GET"): Row("GET", _NO_FACTOR_YET),
        ("mfa_view_recovery_codes", "GET"): Row("GET", _NO_FACTOR_YET),
        ("mfa_generate_recovery_codes", "GET"): Row("GET", _SIGNED_IN_REDIRECT),
        ("mfa_download_recovery_codes", "GET"): Row("GET", _NO_FACTOR_YET),
        ("mfa_list_webauthn", "GET"): Row("GET", _SIGNED_IN_ONLY),
        ("mfa_add_webauthn", "GET"): Row("GET", _SIGNED_IN_REDIRECT),
        ("mfa_reauthenticate_webauthn", "GET"): Row("GET", _SIGNED_IN_REDIRECT),
        ("mfa_remove_webauthn", "GET"): Row("GET", _SIGNED_IN_REDIRECT, lambda w: {"pk": 1}),
        ("mfa_edit_webauthn", "GET"): Row("GET", _SIGNED_IN_REDIRECT, lambda w: {"pk": 1}),
        ("usersessions_list", "GET"): Row("GET", _SIGNED_IN_ONLY),
    }
)


# --- the walk -----------------------------------------------------------------------------------


def _routes() -> Iterator[tuple[str, Any]]:
    def walk(patterns: list[Any], namespace: str | None) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                full = f"{namespace}:{inner}" if namespace and inner else inner or namespace
                yield from walk(pattern.url_patterns, full)
            elif isinstance(pattern, URLPattern):
                if namespace == "admin":
                    continue  # the Django admin: test_django_admin_is_the_admins
                if not pattern.name:
                    raise AssertionError(f"unnamed URL pattern {pattern.pattern}: name it")
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, pattern.callback

    yield from walk(get_resolver().url_patterns, None)


def _api_methods(callback: Any) -> set[str] | None:
    """The HTTP methods a DRF view implements (each needs its row); None for other views."""
    view_class = getattr(callback, "cls", None)
    if view_class is None:
        return None
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in ("options", "head") and hasattr(view_class, method)
    }


def test_every_route_is_in_the_table() -> None:
    missing: list[str] = []
    seen: set[tuple[str, str]] = set()
    for name, callback in _routes():
        methods = _api_methods(callback)
        rows = {method for (route, method) in TABLE if route == name}
        if not rows:
            missing.append(name)
        elif methods is not None and methods - rows:
            missing.append(f"{name} {sorted(methods - rows)}")
        seen.update((name, method) for method in rows)
    stale = sorted(f"{name} {method}" for name, method in set(TABLE) - seen)
    assert not missing, f"routes missing from the access table: {missing}"
    assert not stale, f"rows for routes that do not exist: {stale}"


def _client(world: World, persona: str) -> Client:
    client = Client()
    if persona in world.users:
        mfa_login(client, world.users[persona])
    return client


def _request(world: World, persona: str, name: str, row: Row) -> Any:
    url = reverse(name, kwargs=row.kwargs(world)) + row.query
    client = _client(world, persona)
    data = row.data(world)
    if row.method == "GET":
        if persona == "device":
            headers = signed_headers(world.device_key, method="GET", path=url, body=b"")
            return client.get(url, headers=headers)
        return client.get(url)
    body = encode(data) if row.json else None
    if persona == "device":
        payload = body if body is not None else encode(data)
        headers = signed_headers(world.device_key, path=url.split("?")[0], body=payload)
        return client.post(url, data=payload, content_type="application/json", headers=headers)
    if row.json:
        return client.post(url, data=body, content_type="application/json")
    return client.post(url, data)


def _matches(response: Any, expected: Status) -> bool:
    location = response.get("Location", "")
    login = reverse("account_login")
    if expected == LOGIN:
        return bool(response.status_code == 302 and location.startswith(login))
    if expected == ANY_REDIRECT:
        return bool(response.status_code == 302 and not location.startswith(login))
    return bool(response.status_code == expected)


_CASES = [(name, method, persona) for (name, method) in TABLE for persona in PERSONAS]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method", "persona"), _CASES, ids=[f"{n}-{m}-{p}" for n, m, p in _CASES]
)
def test_access(world: World, name: str, method: str, persona: str) -> None:
    row = TABLE[(name, method)]
    expected = row.expect[persona]
    with transaction.atomic():
        response = _request(world, persona, name, row)
        transaction.set_rollback(True)
    assert _matches(response, expected), (
        f"{method} {name} as {persona}: expected {expected}, got {response.status_code} "
        f"{response.get('Location', '')}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_django_admin_is_the_admins(world: World, persona: str) -> None:
    """Every page of the Django admin: its own staff gate lets only the admin in."""
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    client = _client(world, persona)
    for url in urls:
        response = client.get(url)
        if persona == "admin":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("admin:login")), url


def test_table_rows_name_every_persona() -> None:
    for key, row in TABLE.items():
        assert set(row.expect) == set(PERSONAS), key
        assert row.method == key[1], key
