"""Each report against a small data set whose right answer is worked out by hand here,
including month and fiscal-year boundaries (issue 12, Acceptance)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Counter, Office, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.audit.models import AccessLog, Action, Purpose
from apps.audit.services import access_log_record
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_change_state
from apps.certificates.models import Certificate
from apps.certificates.rules import CertificateKind
from apps.counters.models import CardRead, Device, MatchMethod
from apps.fees.models import FeeSchedule, Payment
from apps.fees.rules import FeeRow
from apps.fees.services import fee_schedule_seed_default
from apps.reports import selectors
from apps.reports.rules import Period, fiscal_year_period
from apps.reports.selectors import Filters
from apps.reports.summaries import refresh
from apps.reports.tables import Report
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory
from tests.actors import FIXTURES
from tests.applications.helpers import receive

TOKYO = ZoneInfo("Asia/Tokyo")


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TOKYO)


def _rows(report: Report, key: str) -> list[tuple[Any, ...]]:
    return report.table(key).rows


def _marks(report: Report, chart: int = 0) -> list[tuple[str, float]]:
    return [(bar.label, bar.value) for bar in report.charts[chart].bars]


@pytest.fixture
def application_at(
    make_card: Callable[..., Card],
) -> Callable[..., Application]:
    """A first-issue application received at ``received_at`` (and handed over, if given)."""

    def make(
        user: User,
        resident: Resident,
        *,
        received_at: datetime,
        handed_over_at: datetime | None = None,
    ) -> Application:
        application = receive(user, resident, ApplicationKind.FIRST_ISSUE)
        fields: dict[str, Any] = {
            "received_at": received_at,
            "received_on": timezone.localdate(received_at),
        }
        if handed_over_at is not None:
            card = application.new_card or make_card(resident, state=CardState.ORDERED)
            fields |= {
                "state": ApplicationState.HANDED_OVER,
                "new_card": card,
                "ordered_at": received_at,
                "handed_over_at": handed_over_at,
                "handed_over_by": user,
                "pins_set": True,
            }
        Application.objects.filter(pk=application.pk).update(**fields)
        application.refresh_from_db()
        return application

    return make


# --- 2. applications and handling time ------------------------------------------------------


@pytest.mark.django_db
def test_activity_counts_by_local_day_and_handling_time_as_a_distribution(
    clerk_a: User,
    clerk_b: User,
    supervisor_a: User,
    auditor: User,
    office_a: Office,
    office_b: Office,
    make_resident: Callable[..., Resident],
    application_at: Callable[..., Application],
) -> None:
    march_31, april_1 = date(2026, 3, 31), date(2026, 4, 1)
    # 23:30 on 31 March in Tokyo is 14:30 UTC: March and FY2025, whatever UTC says.
    late = application_at(clerk_a, make_resident(office_a), received_at=_at(march_31, 23, 30))
    # 00:10 on 1 April in Tokyo is still 31 March in UTC: April and FY2026.
    early = application_at(clerk_a, make_resident(office_a), received_at=_at(april_1, 0, 10))
    application_at(clerk_b, make_resident(office_b), received_at=_at(march_31, 10))
    assert late.received_on == march_31
    assert early.received_on == april_1

    march = Filters(period=Period(date(2026, 3, 1), march_31))
    report = selectors.activity_report(user=supervisor_a, filters=march)
    assert _rows(report, "by_kind")[0] == (ApplicationKind.FIRST_ISSUE.label, 1)
    assert _rows(report, "by_clerk") == [
        (
            "本庁",
            "本庁 1番窓口",
            f"{clerk_a.last_name} {clerk_a.first_name}".strip() or clerk_a.username,
            ApplicationKind.FIRST_ISSUE.label,
            1,
        )
    ]
    # The auditor sees the city: office B's application too; narrowed to B, only that one.
    city = selectors.activity_report(user=auditor, filters=march)
    assert _rows(city, "by_kind")[0][1] == 2
    only_b = selectors.activity_report(
        user=auditor, filters=Filters(period=march.period, office_id=office_b.pk)
    )
    assert _rows(only_b, "by_kind")[0][1] == 1
    fy2026 = selectors.activity_report(
        user=supervisor_a, filters=Filters(period=fiscal_year_period(2026))
    )
    assert _rows(fy2026, "by_kind")[0][1] == 1

    # Handling time: three handed over in April, after 5, 10 and 40 days (received 9:00,
    # handed over 9:00). Median 10 days; 90th percentile 10 + 0.8 × (40 − 10) = 34 days.
    for days in (5, 10, 40):
        received = _at(date(2026, 4, 30) - timedelta(days=days), 9)
        application_at(
            clerk_a,
            make_resident(office_a),
            received_at=received,
            handed_over_at=received + timedelta(days=days),
        )
    april = selectors.activity_report(
        user=supervisor_a, filters=Filters(period=Period(april_1, date(2026, 4, 30)))
    )
    (row,) = _rows(april, "handling")
    assert row[:6] == (ApplicationKind.FIRST_ISSUE.label, 3, 10.0, 34.0, 40.0, 18.3)
    assert row[6:] == (1, 1, 0, 1, 0)  # ≤7, 8–14, 15–30, 31–60, 61+ days
    assert _marks(april, 1) == [
        ("7日以内", 1),
        ("8〜14日", 1),
        ("15〜30日", 0),
        ("31〜60日", 1),
        ("61日以上", 0),
    ]

    # The same answers once the nightly summary holds these past days (and, from the day of
    # the refresh on, the applications themselves): receipts and handovers counted once.
    today = timezone.localdate()
    application_at(clerk_a, make_resident(office_a), received_at=_at(today, 0, 5))
    before = {
        name: selectors.activity_report(user=user, filters=filters).tables
        for name, user, filters in (
            ("march", supervisor_a, march),
            ("city", auditor, march),
            ("april", supervisor_a, Filters(period=Period(april_1, date(2026, 4, 30)))),
            ("fy", supervisor_a, Filters(period=Period(date(2026, 3, 1), today))),
        )
    }
    refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(before_day) FROM reports_activitydaily")
        # Receipts: 31 March at A and at B, 1 April, and the three handed over later (21 March,
        # 20 and 25 April); handovers: 30 April after 5, 10 and 40 days. Today's receipt is
        # not in it: it is read live.
        assert cursor.fetchone() == (9, today)
    for name, user, filters in (
        ("march", supervisor_a, march),
        ("city", auditor, march),
        ("april", supervisor_a, Filters(period=Period(april_1, date(2026, 4, 30)))),
        ("fy", supervisor_a, Filters(period=Period(date(2026, 3, 1), today))),
    ):
        assert selectors.activity_report(user=user, filters=filters).tables == before[name], name


# --- 3. card stock -------------------------------------------------------------------------


@pytest.mark.django_db
def test_stock_bands_lists_and_returned_pickup_letters(
    supervisor_a: User,
    auditor: User,
    office_a: Office,
    office_b: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> None:
    today = date(2026, 11, 30)
    arrivals = {
        "イチ": date(2026, 11, 20),  # < 1 month
        "ニ": date(2026, 10, 30),  # exactly 1 month: 1–3
        "サン": date(2026, 8, 31),  # 1–3
        "ヨン": date(2026, 5, 30),  # exactly 6 months: > 6
    }
    for kana, arrived in arrivals.items():
        make_card(
            make_resident(office_a, family_name_kana=kana, family_name=kana),
            state=CardState.ARRIVED,
            applied_on=arrived - timedelta(days=40),
            issued_on=arrived - timedelta(days=5),
            arrived_on=arrived,
        )
    make_card(
        make_resident(office_b),
        state=CardState.ARRIVED,
        applied_on=date(2026, 9, 1),
        issued_on=date(2026, 11, 1),
        arrived_on=date(2026, 11, 2),
    )
    filters = Filters(period=Period(date(2026, 11, 1), today))
    report = selectors.stock_report(user=supervisor_a, filters=filters, today=today, band=1)
    assert _marks(report) == [("1か月未満", 1), ("1〜3か月", 2), ("3〜6か月", 0), ("6か月以上", 1)]
    listed = _rows(report, "list")
    assert [row[2].split("\u3000")[0] for row in listed] == ["サン", "ニ"]  # oldest first
    assert listed[0][4] == (today - date(2026, 8, 31)).days
    assert report.charts[0].bars[1].href.endswith("band=1#list")
    city = selectors.stock_report(user=auditor, filters=filters, today=today)
    assert _marks(city)[0] == ("1か月未満", 2)  # office B's card too
    assert _rows(city, "returned") == []


@pytest.mark.django_db
def test_r_aud_1_a_list_of_residents_behind_a_bar_is_logged(
    supervisor_a: User,
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    client_for: Callable[[User | None], Client],
) -> None:
    today = timezone.localdate()
    make_card(
        make_resident(office_a),
        state=CardState.ARRIVED,
        applied_on=today - timedelta(days=30),
        issued_on=today - timedelta(days=10),
        arrived_on=today - timedelta(days=3),
    )
    client = client_for(supervisor_a)
    client.get(reverse("reports:stock"))  # the bars only: no names, nothing to log
    assert not AccessLog.objects.filter(action=Action.VIEW_LIST).exists()
    page = client.get(reverse("reports:stock") + "?band=0")
    assert "山田\u3000花子" in page.content.decode()
    logged = AccessLog.objects.get(action=Action.VIEW_LIST, actor=supervisor_a)
    assert logged.detail == {"list": "report:stock", "rows": 1}


# --- 4. money ------------------------------------------------------------------------------


def _payment(
    *,
    clerk: User,
    counter: Counter,
    resident: Resident,
    on: date,
    amount: int,
    number: int,
    schedule: FeeSchedule,
    voided: bool = False,
) -> Payment:
    fiscal_year = on.year if on.month >= 4 else on.year - 1
    return Payment.objects.create(
        office=counter.office,
        counter=counter,
        fiscal_year=fiscal_year,
        receipt_number=number,
        resident=resident,
        fee_row=FeeRow.REISSUE_LOSS_WITH_CERTS,
        schedule=schedule,
        amount_yen=amount,
        business_date=on,
        received_by=clerk,
        received_at=_at(on, 10),
        voided=voided,
    )


@pytest.mark.django_db
def test_money_by_day_and_fiscal_year(
    clerk_a: User,
    supervisor_a: User,
    counter_a: Counter,
    office_a: Office,
    make_resident: Callable[..., Resident],
) -> None:
    schedule = fee_schedule_seed_default()
    payer = make_resident(office_a)
    for number, (on, amount, voided) in enumerate(
        [
            (date(2026, 3, 31), 1000, False),  # FY2025's last day
            (date(2026, 3, 31), 800, False),
            (date(2026, 3, 31), 500, True),  # voided: not income
            (date(2026, 4, 1), 1000, False),  # FY2026's first day
        ],
        start=1,
    ):
        _payment(
            clerk=clerk_a,
            counter=counter_a,
            resident=payer,
            on=on,
            amount=amount,
            number=number,
            schedule=schedule,
            voided=voided,
        )
    fy2025 = selectors.money_report(
        user=supervisor_a, filters=Filters(period=fiscal_year_period(2025))
    )
    assert len(_rows(fy2025, "by_day")) == 365
    assert _rows(fy2025, "by_day")[-1] == (date(2026, 3, 31), 1800)
    assert _rows(fy2025, "by_row") == [
        ("本庁 1番窓口", FeeRow.REISSUE_LOSS_WITH_CERTS.label, 2, 1800)
    ]
    fy2026 = selectors.money_report(
        user=supervisor_a, filters=Filters(period=fiscal_year_period(2026))
    )
    assert _rows(fy2026, "by_day")[0] == (date(2026, 4, 1), 1000)
    assert sum(row[1] for row in _rows(fy2026, "by_day")) == 1000
    span = selectors.money_report(
        user=supervisor_a, filters=Filters(period=Period(date(2026, 3, 31), date(2026, 4, 1)))
    )
    assert _marks(span) == [("3/31", 1800), ("4/1", 1000)]


# --- 5. the expiry wave --------------------------------------------------------------------


def test_the_wave_is_refreshed_every_night() -> None:
    from config.celery import app as celery_app

    assert celery_app.conf.beat_schedule["reports-refresh"]["task"] == "reports.refresh"


@pytest.mark.django_db
def test_wave_by_month_class_and_office_with_counter_hours(
    clerk_a: User,
    supervisor_a: User,
    auditor: User,
    office_a: Office,
    office_b: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    application_at: Callable[..., Application],
) -> None:
    today = timezone.localdate()
    first = today.replace(day=1)

    def card(office: Office, expires_on: date, **resident: Any) -> Card:
        made = make_card(make_resident(office, **resident))
        Card.objects.filter(pk=made.pk).update(expires_on=expires_on)
        made.refresh_from_db()
        return made

    def month(n: int, day: int) -> date:
        from apps.cards.rules import add_months

        return add_months(first, n).replace(day=day)

    card(office_a, month(0, 28))  # a national, this month
    card(office_a, month(0, 1))  # this month's first day counts
    card(office_a, month(-1, 28))  # last month: not in the wave
    card(office_a, month(24, 1))  # 25th month: not in the wave
    # A foreign resident whose card ends on the stay (not a birthday), in month 2 …
    card(
        office_a,
        month(2, 10),
        nationality="VN",
        residence=Residence(category=ResidenceCategory.MID_LONG_TERM, period_ends_on=month(2, 10)),
        birth_date=date(1990, 5, 5) if month(2, 10).month != 5 else date(1990, 6, 5),
    )
    # … and a permanent resident's card ending on a birthday (the national rule).
    card(
        office_a,
        month(2, 5),
        nationality="VN",
        residence=Residence(category=ResidenceCategory.PERMANENT),
        birth_date=date(1990, month(2, 1).month, 5),
    )
    card(office_b, month(0, 15))
    # A certificate ending before its card is a renewal of its own; with the card it is not.
    holder = card(office_a, month(23, 20))
    Certificate.objects.create(
        card=holder,
        kind=CertificateKind.AUTH,
        serial="a1",
        issued_on=date(2022, 1, 1),
        expires_on=month(3, 3),
    )
    Certificate.objects.create(
        card=holder,
        kind=CertificateKind.SIGNING,
        serial="a2",
        issued_on=date(2022, 1, 1),
        expires_on=month(23, 20),
    )

    assert not any(
        _rows(
            selectors.wave_report(user=auditor, filters=Filters(Period(today, today)), today=today),
            "offices",
        )
    )  # the nightly views hold nothing of this yet
    refresh()
    report = selectors.wave_report(
        user=supervisor_a, filters=Filters(period=Period(today, today)), today=today
    )
    assert any("時点" in note for note in report.notes)  # when it was computed
    rows = _rows(report, "months")
    assert len(rows) == 24
    assert rows[0][1:5] == (2, 0, 0, 2)  # nationals, foreign (national rule), stay, total
    assert rows[2][1:5] == (0, 1, 1, 2)
    assert rows[3][5:7] == (1, 0)  # the AUTH certificate in month 3
    assert rows[23][4] == 1
    assert rows[23][6] == 0  # the SIGNING one ends with its card
    assert sum(row[4] for row in rows) == 5
    assert rows[0][7] is None  # nothing measured yet: no counter hours, and it says so
    assert any("計測できる記録がまだない" in note for note in report.notes)
    city = selectors.wave_report(
        user=auditor, filters=Filters(period=Period(today, today)), today=today
    )
    assert _rows(city, "months")[0][4] == 3
    assert (f"{first.year}年{first.month}月", "支所", 1) in _rows(city, "offices")

    # Measured: a clerk received at 9:00 and 9:10 and handed over at 9:16 yesterday — 10
    # minutes a receipt, 6 a handover, 16 a renewal; this month's 2 cards take 0.5 hours.
    yesterday = today - timedelta(days=1)
    application_at(clerk_a, make_resident(office_a), received_at=_at(yesterday, 9))
    application_at(clerk_a, make_resident(office_a), received_at=_at(yesterday, 9, 10))
    application_at(
        clerk_a,
        make_resident(office_a),
        received_at=_at(yesterday - timedelta(days=20), 9),
        handed_over_at=_at(yesterday, 9, 16),
    )
    refresh()
    measured = selectors.wave_report(
        user=supervisor_a, filters=Filters(period=Period(today, today)), today=today
    )
    assert _rows(measured, "months")[0][7] == round(2 * 16 / 60, 1)
    assert any("受付 10.0分" in note for note in measured.notes)
    assert any("交付 6.0分" in note for note in measured.notes)


# --- 7. security ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_security_reveals_by_user_suspensions_and_unmatched_reads(
    clerk_a: User,
    counter_a: Counter,
    clerk_b: User,
    supervisor_a: User,
    auditor: User,
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> None:
    today = timezone.localdate()
    resident = make_resident(office_a)
    with transaction.atomic():
        for actor in (clerk_a, clerk_a, clerk_b):
            access_log_record(
                actor=actor,
                action=Action.REVEAL_MY_NUMBER,
                resident=resident,
                purpose=Purpose.IDENTITY_CHECK,
            )
    card_change_state(
        acting_user=FIXTURES,
        card=make_card(make_resident(office_a)),
        to_state=CardState.SUSPENDED,
        on=today,
    )
    # Two reads at counter 1 that matched nobody, one that found its resident.
    device = Device.objects.create(
        name="窓口PC", fingerprint="SHA256:reports", public_key=b"k" * 32
    )
    for match, who in (
        (MatchMethod.NONE, None),
        (MatchMethod.NONE, None),
        (MatchMethod.CERTIFICATE, resident),
    ):
        CardRead.objects.create(
            read_id=uuid.uuid4(),
            device=device,
            counter=counter_a,
            kind="card",
            read_at=timezone.now(),
            match=match,
            resident=who,
        )
    filters = Filters(period=Period(today, today))
    report = selectors.security_report(user=supervisor_a, filters=filters)
    assert _rows(report, "unmatched") == [("本庁 1番窓口", 2)]
    name_a = f"{clerk_a.last_name} {clerk_a.first_name}".strip() or clerk_a.username
    assert _rows(report, "reveals") == [(name_a, 2)]
    assert _marks(report) == [(name_a, 2)]
    assert _rows(report, "suspensions") == [("本庁", 1)]
    assert _rows(report, "lock_releases") == []  # none received (tests/custody has one)
    assert _rows(report, "blocked_handovers") == []
    city = selectors.security_report(user=auditor, filters=filters)
    assert sorted(row[1] for row in _rows(city, "reveals")) == [1, 2]
    yesterday = selectors.security_report(
        user=supervisor_a,
        filters=Filters(period=Period(today - timedelta(days=1), today - timedelta(days=1))),
    )
    assert _rows(yesterday, "reveals") == []


# --- 8. exports and access -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_xlsx_export_holds_the_table_is_logged_and_holds_no_my_number(
    clerk_a: User,
    supervisor_a: User,
    counter_a: Counter,
    office_a: Office,
    make_resident: Callable[..., Resident],
    client_for: Callable[[User | None], Client],
) -> None:
    schedule = fee_schedule_seed_default()
    payer = make_resident(office_a, my_number="123456789018")
    today = timezone.localdate()
    _payment(
        clerk=clerk_a,
        counter=counter_a,
        resident=payer,
        on=today,
        amount=1000,
        number=1,
        schedule=schedule,
    )
    url = reverse("reports:export", args=["money"])
    query = f"?format=xlsx&date_from={today.isoformat()}&date_to={today.isoformat()}"
    response = client_for(supervisor_a).get(url + query)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["by_row"]
    assert [cell.value for cell in sheet[3]] == [
        "本庁 1番窓口",
        FeeRow.REISSUE_LOSS_WITH_CERTS.label,
        1,
        1000,
    ]
    assert b"123456789018" not in response.content
    logged = AccessLog.objects.get(action=Action.EXPORT, actor=supervisor_a)
    assert logged.detail["what"] == "report:money"
    assert logged.detail["format"] == "xlsx"

    csv_response = client_for(supervisor_a).get(
        url + query.replace("xlsx", "csv") + "&table=by_row"
    )
    assert csv_response.status_code == 200
    assert "1000" in csv_response.content.decode("utf-8-sig")
    assert AccessLog.objects.filter(action=Action.EXPORT, actor=supervisor_a).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["home", "activity", "stock", "money", "wave", "reconciliation", "security"]
)
def test_reports_are_for_supervisors_and_the_auditor(
    name: str,
    clerk_a: User,
    supervisor_a: User,
    auditor: User,
    client_for: Callable[[User | None], Client],
) -> None:
    url = reverse(f"reports:{name}")
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url).status_code == 403
    page = client_for(supervisor_a).get(url)
    assert page.status_code == 200
    assert client_for(auditor).get(url).status_code == 200
    if name != "home":
        body = page.content.decode()
        assert 'role="img"' in body
        assert "<title" in body
        assert "期間：" in body
        assert "令和" in body  # dates in both forms


@pytest.mark.django_db
def test_a_bad_filter_is_said_and_the_default_period_shown(
    supervisor_a: User, client_for: Callable[[User | None], Client]
) -> None:
    page = client_for(supervisor_a).get(
        reverse("reports:money") + "?date_from=2026-04-02&date_to=2026-04-01"
    )
    assert page.status_code == 200
    assert "開始日は終了日より前にしてください。" in page.content.decode()


@pytest.mark.django_db
def test_the_home_shows_takings_per_counter(
    clerk_a: User,
    supervisor_a: User,
    counter_a: Counter,
    office_a: Office,
    make_resident: Callable[..., Resident],
    client_for: Callable[[User | None], Client],
) -> None:
    schedule = fee_schedule_seed_default()
    today = timezone.localdate()
    payer = make_resident(office_a)
    for number, amount in enumerate((1000, 800), start=1):
        _payment(
            clerk=clerk_a,
            counter=counter_a,
            resident=payer,
            on=today,
            amount=amount,
            number=number,
            schedule=schedule,
        )
    body = client_for(supervisor_a).get(reverse("reports:home")).content.decode()
    assert 'data-takings="1800"' in body
    assert "1,800円（2件）" in body
    assert 'data-waiting-count="blocked-handovers">0件' in body
    assert 'data-waiting-count="count-differences">0件' in body
    for slug in ("activity", "stock", "money", "wave", "reconciliation", "security"):
        assert reverse(f"reports:{slug}") in body
