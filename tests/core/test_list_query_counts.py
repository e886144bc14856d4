"""Every list view runs the same number of queries for 10 rows as for 1,000.

Each case fills its list with ``n`` rows (bulk inserts, no history), asks for the page once
and counts the queries; the counts for 10 and for 1,000 rows must be equal. A query per row
(a relation read lazily in a template, an N+1) shows as 10 against 100 or 1,000; a count or
an OFFSET does not change the number of queries, so the plans of the long lists are checked
by bench/pages.py, and their paging by tests/core/test_paging.py. Each case also checks that
its page lists the rows, so that what is counted is a page that shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.models import Application, ArrivalImport
from apps.applications.rules import ApplicantType, ApplicationKind, ApplicationState
from apps.audit.models import AccessLog, Action, Alert
from apps.cards.models import Card, ContinuedUse
from apps.cards.rules import CardState
from apps.certificates.models import Certificate, CertificateState, PinState
from apps.certificates.rules import CertificateKind, PinKind
from apps.counters.models import Device
from apps.fees.models import DailyClose, FeeAmount, FeeSchedule, FeeWaiver, Payment
from apps.fees.rules import FeeRow
from apps.notices.models import Notice, NoticeBatch
from apps.residents.models import Resident
from tests.auth import mfa_login
from tests.factories import bulk_cards, bulk_residents

pytestmark = pytest.mark.django_db


@dataclass
class World:
    office: Office
    counter: Counter
    clerk: User
    supervisor: User
    auditor: User
    admin: User


@dataclass(frozen=True)
class Request:
    user: User
    method: str
    url: str
    data: dict[str, str] | None
    shows: str  # on the page when it lists the rows


def _residents(office: Office, n: int) -> list[Resident]:
    return bulk_residents(office, n)


def _waiting_cards(world: World, n: int) -> None:
    today = timezone.localdate()
    bulk_cards(
        bulk_residents(world.office, n),
        state=CardState.ARRIVED,
        expires_on=lambda k: today + timedelta(days=3000),
        arrived_on=lambda k: today - timedelta(days=k % 100),
    )


def search(world: World, n: int) -> Request:
    _residents(world.office, n)
    return Request(world.clerk, "post", reverse("residents:search"), {"k-kana": "やまだ"}, "山田")


def uncollected(world: World, n: int) -> Request:
    _waiting_cards(world, n)
    return Request(world.clerk, "get", reverse("applications:uncollected"), None, "data-days=")


def uncollected_last_page(world: World, n: int) -> Request:
    _waiting_cards(world, n)
    url = reverse("applications:uncollected") + "?page=last"
    return Request(world.clerk, "get", url, None, "data-days=")


def uncollected_api(world: World, n: int) -> Request:
    _waiting_cards(world, n)
    return Request(world.clerk, "get", reverse("applications-api:uncollected"), None, "card_id")


def _held_cards(world: World, n: int) -> None:
    """``n`` arrived cards received into the custody ledger (one lot, one place)."""
    from apps.custody.models import CardCustody, CustodyState, Lot, Place, PlaceKind

    _waiting_cards(world, n)
    place = Place.objects.create(office=world.office, name="金庫", kind=PlaceKind.SAFE)
    lot = Lot.objects.create(
        office=world.office,
        number="Q-1",
        arrived_on=timezone.localdate(),
        received_at=timezone.now(),
        received_by=world.clerk,
        card_count=n,
    )
    CardCustody.objects.bulk_create(
        CardCustody(
            card=card,
            office=world.office,
            lot=lot,
            position=k,
            state=CustodyState.IN_PLACE,
            place=place,
        )
        for k, card in enumerate(Card.objects.filter(office=world.office, state=CardState.ARRIVED))
    )


def custody_stock(world: World, n: int) -> Request:
    _held_cards(world, n)
    return Request(world.clerk, "get", reverse("custody:index"), None, 'href="/custody/cards/')


def _log(world: World, n: int) -> None:
    residents = _residents(world.office, n)
    AccessLog.objects.bulk_create(
        AccessLog(
            actor=world.clerk,
            office=world.office,
            resident=resident,
            action=Action.VIEW_RESIDENT,
            detail={},
        )
        for resident in residents
    )


def access_log(world: World, n: int) -> Request:
    _log(world, n)
    return Request(world.auditor, "get", reverse("audit:log"), None, "住民情報の閲覧")


def access_log_of_the_office(world: World, n: int) -> Request:
    _log(world, n)
    today = timezone.localdate().isoformat()
    url = reverse("audit:log") + f"?date_from={today}&date_to={today}&page=last"
    return Request(world.supervisor, "get", url, None, "住民情報の閲覧")


def access_log_export(world: World, n: int) -> Request:
    """The CSV export of the log reads its rows with their staff, office and resident."""
    _log(world, n)
    return Request(world.auditor, "get", reverse("audit:export"), None, "住民情報の閲覧")


def _notices(world: World, batch: NoticeBatch, n: int) -> None:
    resident = _residents(world.office, 1)[0]
    card = Card.objects.create(
        resident=resident,
        office=world.office,
        state=CardState.ACTIVE,
        applied_on=date(2020, 1, 1),
        issued_on=date(2020, 2, 1),
        expires_on=date(2030, 2, 1),
    )
    Notice.objects.bulk_create(
        Notice(
            kind="card_expiry",
            resident=resident,
            card=card,
            expires_on=date(2030, 2, 1) + timedelta(days=k),
            created_on=batch.run_on,
            batch=batch,
            returned_on=batch.run_on + timedelta(days=10),
            returned_by=world.clerk,
        )
        for k in range(n)
    )


def notice_batches(world: World, n: int) -> Request:
    batches = NoticeBatch.objects.bulk_create(
        NoticeBatch(
            office=world.office,
            kind="card_expiry",
            run_on=date(2026, 1, 1) - timedelta(days=k),
            notice_count=1000,
            printed_by=world.supervisor,
            posted_by=world.supervisor,
        )
        for k in range(n)
    )
    _notices(world, batches[0], 3)
    link = reverse("notices:batch", args=[batches[0].pk])
    return Request(world.supervisor, "get", reverse("notices:batches"), None, link)


def returned_letters_of_a_batch(world: World, n: int) -> Request:
    batch = NoticeBatch.objects.create(
        office=world.office, kind="card_expiry", run_on=date(2026, 1, 1), notice_count=n
    )
    _notices(world, batch, n)
    url = reverse("notices:batch", args=[batch.pk])
    return Request(world.supervisor, "get", url, None, "山田\u3000太郎")


def payments_of_the_day(world: World, n: int) -> Request:
    resident = _residents(world.office, 1)[0]
    schedule = FeeSchedule.objects.order_by("starts_on").first()
    assert schedule is not None
    today = timezone.localdate()
    row = FeeRow.REISSUE_LOSS_WITH_CERTS
    Payment.objects.bulk_create(
        Payment(
            office=world.office,
            counter=world.counter,
            fiscal_year=2099,
            receipt_number=k + 1,
            resident=resident,
            fee_row=row,
            schedule=schedule,
            amount_yen=1000,
            business_date=today,
            received_by=world.clerk,
            received_at=timezone.now(),
        )
        for k in range(n)
    )
    return Request(world.clerk, "get", reverse("fees:payments"), None, "第000001号")


def daily_closes(world: World, n: int) -> Request:
    # The form lists the office's counters: grow them too (one per ten closes).
    counters = Counter.objects.bulk_create(
        Counter(office=world.office, code=f"x{k}", name=f"臨時{k}窓口") for k in range(n // 10)
    )
    today = timezone.localdate()
    DailyClose.objects.bulk_create(
        DailyClose(
            office=world.office,
            counter=world.counter,
            business_date=today - timedelta(days=k + 1),
            expected_cash_yen=1000,
            counted_cash_yen=1000,
            payments_count=1,
            voided_count=0,
            closed_by=world.clerk,
            closed_at=timezone.now(),
        )
        for k in range(n)
    )
    assert len(counters) == n // 10
    return Request(world.clerk, "get", reverse("fees:close"), None, "data-expected-cash")


def arrival_imports(world: World, n: int) -> Request:
    ArrivalImport.objects.bulk_create(
        ArrivalImport(
            sha256=f"{k:064x}",
            filename=f"arrivals-{k}.csv",
            office=world.office,
            imported_by=world.clerk,
            imported_at=timezone.now(),
            imported_on=timezone.localdate(),
        )
        for k in range(n)
    )
    return Request(world.clerk, "get", reverse("applications:arrivals"), None, ".csv</a></td>")


def suspension_imports(world: World, n: int) -> Request:
    from apps.cards.models import SuspensionImport

    SuspensionImport.objects.bulk_create(
        SuspensionImport(filename=f"cc-{k}.csv", content=b"", uploaded_by=world.supervisor)
        for k in range(n)
    )
    url = reverse("cards:suspension_imports")
    return Request(world.supervisor, "get", url, None, ".csv</a></td>")


def reader_devices(world: World, n: int) -> Request:
    Device.objects.bulk_create(
        Device(
            name=f"窓口PC{k}",
            fingerprint=f"SHA256:{k:040d}",
            public_key=b"k" * 32,
            state="approved",
            counter=world.counter,
            approved_by=world.admin,
            approved_at=timezone.now(),
        )
        for k in range(n)
    )
    return Request(world.admin, "get", reverse("counters:devices"), None, "窓口PC0")


def fee_schedules(world: World, n: int) -> Request:
    schedules = FeeSchedule.objects.bulk_create(
        FeeSchedule(starts_on=date(2030, 1, 1) + timedelta(days=k), created_by=world.supervisor)
        for k in range(n)
    )
    FeeAmount.objects.bulk_create(
        FeeAmount(schedule=schedule, row=row, amount_yen=1000)
        for schedule in schedules
        for row in FeeRow
    )
    return Request(world.clerk, "get", reverse("fees:schedules"), None, "2030")


def _first_issue(
    world: World, resident: Resident, *, state: ApplicationState, **fields: Any
) -> Application:
    """A first-issue application received today at the world's counter (not saved)."""
    schedule = FeeSchedule.objects.order_by("starts_on").first()
    assert schedule is not None
    now = timezone.now()
    return Application(
        kind=ApplicationKind.FIRST_ISSUE,
        state=state,
        resident=resident,
        office=world.office,
        counter=world.counter,
        applicant_type=ApplicantType.HOLDER,
        received_on=now.date(),
        received_at=now,
        received_by=world.clerk,
        fee_row=FeeRow.FIRST_ISSUE_FREE,
        fee_amount_yen=0,
        fee_schedule=schedule,
        **fields,
    )


def _pending_waivers(world: World, n: int) -> None:
    """``n`` first-issue applications, each waiting for a supervisor to approve its waiver."""
    residents = _residents(world.office, n)
    now = timezone.now()
    waivers = FeeWaiver.objects.bulk_create(
        FeeWaiver(
            office=world.office,
            resident=resident,
            fee_row=FeeRow.FIRST_ISSUE_FREE,
            reason="本人の責めによらない",
            requested_by=world.clerk,
            requested_at=now,
        )
        for resident in residents
    )
    Application.objects.bulk_create(
        _first_issue(world, resident, state=ApplicationState.RECEIVED, waiver=waiver)
        for resident, waiver in zip(residents, waivers, strict=True)
    )


def supervisor_home(world: World, n: int) -> Request:
    """What waits for the supervisor: waivers (the first 20 listed), today's close of every
    counter (one per ten rows), the stock of waiting cards counted by age (capped counts)."""
    _pending_waivers(world, n)
    Counter.objects.bulk_create(
        Counter(office=world.office, code=f"h{k}", name=f"臨時{k}窓口") for k in range(n // 10)
    )
    _waiting_cards(world, n)
    return Request(world.supervisor, "get", reverse("reports:home"), None, "臨時0窓口")


def _devices(world: World, n: int, *, state: str) -> None:
    Device.objects.bulk_create(
        Device(
            name=f"窓口PC{k}",
            fingerprint=f"SHA256:{state}{k:040d}",
            public_key=b"k" * 32,
            state=state,
            counter=world.counter,
            approved_by=world.admin if state == "approved" else None,
            approved_at=timezone.now() if state == "approved" else None,
        )
        for k in range(n)
    )


def admin_home(world: World, n: int) -> Request:
    """Staff counted by role (``n`` more clerks), devices waiting for approval (20 listed)."""
    User.objects.bulk_create(
        User(username=f"clerk_x{k}", role=Role.CLERK, office=world.office) for k in range(n)
    )
    _devices(world, n, state="pending")
    _devices(world, n, state="approved")
    return Request(world.admin, "get", reverse("home:admin"), None, "窓口PC0")


def counter_live(world: World, n: int) -> Request:
    """The counter screen lists its counter's approved reader devices."""
    _devices(world, n, state="approved")
    return Request(world.clerk, "get", reverse("counters:live"), None, "窓口PC0")


def access_log_with_alerts(world: World, n: int) -> Request:
    """The audit screen with ``n`` unacknowledged R-AUD-3 alerts (the first 20 shown), the
    staff filter's choices grown by ``n`` members of staff, and ``n`` rows of the log."""
    _log(world, n)
    staff = User.objects.bulk_create(
        User(username=f"clerk_y{k}", role=Role.CLERK, office=world.office, last_name=f"職員{k}")
        for k in range(n)
    )
    Alert.objects.bulk_create(
        Alert(kind=Alert.Kind.REVEAL_RATE, actor=member, office=world.office, detail={})
        for member in staff
    )
    return Request(world.auditor, "get", reverse("audit:log"), None, "個人番号の表示回数")


def daily_closes_api(world: World, n: int) -> Request:
    """The API's recent closes of the office (the last 100, each with its lines)."""
    daily_closes(world, n)
    return Request(world.clerk, "get", reverse("fees-api:daily-closes"), None, "counted_cash")


def fee_schedules_api(world: World, n: int) -> Request:
    fee_schedules(world, n)
    return Request(world.clerk, "get", reverse("fees-api:schedules"), None, "2030")


def resident_page(world: World, n: int) -> Request:
    """The resident page's lists: every card of the resident (``n`` handed back), each with
    its certificate and PIN state, the cards' history, the recent applications."""
    resident = _residents(world.office, 1)[0]
    cards = bulk_cards([resident] * n, state=CardState.RETURNED)
    Certificate.objects.bulk_create(
        Certificate(
            card=card,
            kind=CertificateKind.AUTH,
            serial=f"{k:08x}",
            issued_on=date(2020, 2, 1),
            expires_on=date(2025, 2, 1),
            state=CertificateState.REVOKED,
            revoked_on=date(2021, 2, 1),
        )
        for k, card in enumerate(cards)
    )
    PinState.objects.bulk_create(
        PinState(card=card, kind=PinKind.AUTH, tries_left=3) for card in cards
    )
    Application.objects.bulk_create(
        _first_issue(
            world,
            resident,
            state=ApplicationState.CANCELLED,
            cancelled_at=timezone.now(),
            cancelled_by=world.clerk,
        )
        for _ in range(n)
    )
    url = reverse("residents:detail", args=[resident.pk])
    return Request(world.clerk, "get", url, None, "00000000")


def report_stock_list(world: World, n: int) -> Request:
    _waiting_cards(world, n)  # within 100 days: the youngest band holds the first 30
    url = reverse("reports:stock") + "?band=0"
    return Request(world.supervisor, "get", url, None, 'data-table="list"')


def report_money(world: World, n: int) -> Request:
    payments_of_the_day(world, n)
    daily_closes(world, n)
    today = timezone.localdate()
    query = f"?date_from={(today - timedelta(days=60)).isoformat()}&date_to={today.isoformat()}"
    return Request(world.supervisor, "get", reverse("reports:money") + query, None, "data-table")


def continued_use_due(world: World, n: int) -> Request:
    """Issue 10, R-CHG-4: the cards to register for continued use in 14 days."""
    today = timezone.localdate()
    cards = bulk_cards(bulk_residents(world.office, n))
    ContinuedUse.objects.bulk_create(
        ContinuedUse(
            card=card,
            office_id=world.office.pk,
            planned_move_out_on=today - timedelta(days=85),
            moved_in_on=today - timedelta(days=85),
            move_in_notice_on=today - timedelta(days=80),
            register_by=today + timedelta(days=k % 14),
        )
        for k, card in enumerate(cards)
    )
    return Request(world.clerk, "get", reverse("applications:continued_use_due"), None, "山田")


CASES: list[Callable[[World, int], Request]] = [
    search,
    uncollected,
    uncollected_last_page,
    uncollected_api,
    custody_stock,
    access_log,
    access_log_of_the_office,
    access_log_export,
    notice_batches,
    returned_letters_of_a_batch,
    payments_of_the_day,
    daily_closes,
    arrival_imports,
    suspension_imports,
    reader_devices,
    fee_schedules,
    supervisor_home,
    admin_home,
    counter_live,
    access_log_with_alerts,
    daily_closes_api,
    fee_schedules_api,
    resident_page,
    report_stock_list,
    report_money,
    continued_use_due,
]


@pytest.fixture
def world(
    office_a: Office,
    counter_a: Counter,
    clerk_a: User,
    supervisor_a: User,
    auditor: User,
    admin_user: User,
) -> World:
    return World(office_a, counter_a, clerk_a, supervisor_a, auditor, admin_user)


def _queries(world: World, case: Callable[[World, int], Request], n: int) -> int:
    """The queries of one request to the case's page with ``n`` rows; the rows are rolled
    back afterwards, so that each count sees exactly its own ``n``."""
    savepoint = transaction.savepoint()
    try:
        request = case(world, n)
        client = mfa_login(Client(), request.user)
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, request.method)(request.url, request.data)
        assert response.status_code == 200, response.status_code
        assert request.shows in response.content.decode()
        return len(queries)
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_list_view_queries_do_not_grow_with_rows(
    case: Callable[[World, int], Request], world: World
) -> None:
    few = _queries(world, case, 10)
    many = _queries(world, case, 1000)
    assert few == many, f"{case.__name__}: {few} queries for 10 rows, {many} for 1,000"


def test_a_page_that_reads_per_row_is_caught(world: World) -> None:
    """The check itself: a template that reads a relation per row makes the counts differ."""
    template = engines["django"].from_string(
        "{% for row in rows %}{{ row.resident.family_name }}{% endfor %}"
    )

    def lazy(world: World, n: int) -> int:
        savepoint = transaction.savepoint()
        try:
            _log(world, n)
            rows = list(AccessLog.objects.order_by("-id")[:100])
            with CaptureQueriesContext(connection) as queries:
                template.render({"rows": rows})
            return len(queries)
        finally:
            transaction.savepoint_rollback(savepoint)

    assert lazy(world, 10) < lazy(world, 1000)
