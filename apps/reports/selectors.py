"""Every read of the reports, scoped with ``policy.restrict``: a supervisor sees their own
office, the auditor the whole city (and may narrow it to one office).

Each report is a handful of aggregate queries that PostgreSQL answers from its indexes
(``bench/reports.py`` measures them at 3,000,000 cards): counts, sums and percentiles are
computed in the database, never by a Python loop over rows. Only the lists behind a bar are
rows, and those are capped (LIST_LIMIT) with a word that there are more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import Counter, Office, User
from apps.applications.models import Application
from apps.applications.rules import OPEN_STATES, ApplicationKind, ApplicationState
from apps.audit.models import AccessLog, Action
from apps.cards.models import Card
from apps.cards.rules import CardState, add_months
from apps.certificates.rules import CertificateKind
from apps.core.wareki import fiscal_year_name, format_both
from apps.counters.models import CardRead, MatchMethod
from apps.custody.models import DailyCount, HandoverReadCheck
from apps.fees.models import DailyClose, FeeWaiver, Payment, PaymentVoid
from apps.fees.rules import FeeRow
from apps.notices.models import Notice
from apps.notices.rules import NoticeKind
from apps.reports.charts import Bar, Chart
from apps.reports.models import NoticeReconciliation
from apps.reports.rules import (
    COUNTER_MEASURE_DAYS,
    HANDLING_BUCKETS,
    STOCK_BANDS,
    DayCounts,
    Period,
    counter_hours,
    stock_band_bounds,
    wave_months,
)
from apps.reports.tables import Report, Table

M = TypeVar("M", bound=Model)

# A list behind a bar shows at most this many rows, and says when there are more.
LIST_LIMIT = 500


# --- scope ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    period: Period
    office_id: uuid.UUID | None = None  # None: every office the user may see


def scoped(
    queryset: QuerySet[M], user: User, filters: Filters | None = None, *, office: str = "office_id"
) -> QuerySet[M]:
    """The rows of ``queryset`` the user may read in reports, narrowed to the chosen office."""
    rows = policy.restrict(
        queryset,
        user,
        allowed=policy.may_read_reports,
        office=office,
        whole_city=policy.reads_whole_city_reports,
    )
    if filters is not None and filters.office_id is not None:
        rows = rows.filter(**{office: filters.office_id})
    return rows


def offices_for(user: User) -> QuerySet[Office]:
    return scoped(Office.objects.order_by("code"), user, office="pk")


def _instants(period: Period) -> tuple[datetime, datetime]:
    """The period as a range of instants in the city's time zone (an index range, not __date)."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(period.start, time.min, tzinfo=zone),
        datetime.combine(period.end_exclusive, time.min, tzinfo=zone),
    )


def _staff_names(ids: Iterable[Any]) -> dict[Any, str]:
    wanted = {pk for pk in ids if pk is not None}
    names = {}
    for pk, last, first, username in User.objects.filter(pk__in=wanted).values_list(
        "pk", "last_name", "first_name", "username"
    ):
        names[pk] = f"{last} {first}".strip() or username
    return names


def _office_names() -> dict[Any, str]:
    return dict(Office.objects.values_list("pk", "name"))


def _counter_names() -> dict[Any, str]:
    return {
        pk: f"{office} {name}"
        for pk, office, name in Counter.objects.values_list("pk", "office__name", "name")
    }


class DaysBetween(Func):
    """``a - b`` of two dates: whole days, an integer in PostgreSQL."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


# --- 2. applications and handling time -----------------------------------------------------------


_ACTIVITY_CUTOFF_SQL = "SELECT before_day FROM reports_activitydaily LIMIT 1"
_ACTIVITY_RECEIPTS_SQL = """
SELECT office_id, counter_id, clerk_id, kind, sum(n)::integer FROM reports_activitydaily
WHERE step = 'receive' AND day >= %(start)s AND day < %(end)s {office}
GROUP BY office_id, counter_id, clerk_id, kind
"""
_ACTIVITY_HANDOVERS_SQL = """
SELECT kind, days, sum(n)::integer FROM reports_activitydaily
WHERE step = 'handover' AND day >= %(start)s AND day < %(end)s {office}
GROUP BY kind, days
"""
_NO_COUNTER = uuid.UUID(int=0)


def _activity_counts(
    *, user: User, filters: Filters
) -> tuple[dict[tuple[Any, Any, Any, str], int], dict[str, dict[int, int]]]:
    """Receipts per (office, counter, clerk, kind) and handovers per kind and days taken.

    The days before the nightly summary's cutoff come from ``reports_activitydaily``
    (apps.reports.summaries), the days since from the applications (a short range of
    ``application_received`` / ``application_handed_over``): the same counts either way.
    """
    receipts: dict[tuple[Any, Any, Any, str], int] = {}
    handovers: dict[str, dict[int, int]] = {}
    period = filters.period
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVITY_CUTOFF_SQL)
        found = cursor.fetchone()
    cutoff: date = found[0] if found else period.start
    if period.start < cutoff and policy.may_read_reports(user):
        clause, params = _office_clause(user, filters, "office_id")
        span = {"start": period.start, "end": min(cutoff, period.end_exclusive), **params}
        with connection.cursor() as cursor:
            cursor.execute(_ACTIVITY_RECEIPTS_SQL.format(office=clause), span)
            for office_id, counter_id, clerk_id, kind, n in cursor.fetchall():
                key = (office_id, None if counter_id == _NO_COUNTER else counter_id, clerk_id, kind)
                receipts[key] = receipts.get(key, 0) + n
            cursor.execute(_ACTIVITY_HANDOVERS_SQL.format(office=clause), span)
            for kind, days, n in cursor.fetchall():
                handovers.setdefault(kind, {})[days] = handovers.get(kind, {}).get(days, 0) + n
    if period.end_exclusive <= cutoff:
        return receipts, handovers
    live = Period(max(period.start, cutoff), period.end)
    start, end = _instants(live)
    received = scoped(Application.objects.all(), user, filters).filter(
        received_at__gte=start, received_at__lt=end
    )
    for office_id, counter_id, clerk_id, kind, n in (
        received.values_list("office_id", "counter_id", "received_by_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = (office_id, counter_id, clerk_id, kind)
        receipts[key] = receipts.get(key, 0) + n
    done = scoped(Application.objects.all(), user, filters).filter(
        state=ApplicationState.HANDED_OVER, handed_over_at__gte=start, handed_over_at__lt=end
    )
    for kind, days, n in (
        done.annotate(days=DaysBetween(TruncDate("handed_over_at"), F("received_on")))
        .values_list("kind", "days")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        handovers.setdefault(kind, {})[days] = handovers.get(kind, {}).get(days, 0) + n
    return receipts, handovers


def activity_report(*, user: User, filters: Filters) -> Report:
    """Applications received in the period by kind, office, counter and clerk; and the
    handling time (received → handed over, in the city's calendar days) of those handed over
    in the period, as a distribution: the median, the 90th percentile, the longest, the mean
    and the count in each band of days (rules.DayCounts reads them from the counts).
    """
    kinds = list(ApplicationKind)
    receipts, counts = _activity_counts(user=user, filters=filters)
    by_kind: dict[str, int] = {}
    for (_, _, _, kind), n in receipts.items():
        by_kind[kind] = by_kind.get(kind, 0) + n
    offices, counters = _office_names(), _counter_names()
    names = _staff_names(clerk for _, _, clerk, _ in receipts)
    detail_rows: list[tuple[Any, ...]] = [
        (
            offices.get(office_id, "—"),
            counters.get(counter_id, "（窓口なし）"),
            names.get(clerk_id, "—"),
            ApplicationKind(kind).label,
            n,
        )
        for (office_id, counter_id, clerk_id, kind), n in sorted(
            receipts.items(),
            key=lambda item: (
                offices.get(item[0][0], ""),
                counters.get(item[0][1], ""),
                names.get(item[0][2], ""),
                item[0][3],
            ),
        )
    ]
    histogram = [0] * len(HANDLING_BUCKETS)
    handling_rows: list[tuple[Any, ...]] = []
    for kind in kinds:
        if kind.value not in counts:
            continue
        distribution = DayCounts(counts[kind.value])
        buckets = distribution.buckets(HANDLING_BUCKETS)
        histogram = [a + b for a, b in zip(histogram, buckets, strict=True)]
        handling_rows.append(
            (
                kind.label,
                distribution.total,
                distribution.percentile(0.5),
                distribution.percentile(0.9),
                distribution.longest,
                distribution.mean,
                *buckets,
            )
        )
    return Report(
        slug="activity",
        title="申請の受付と処理日数",
        charts=[
            Chart(
                title="手続ごとの受付件数",
                unit="件",
                bars=[Bar(kind.label, by_kind.get(kind.value, 0)) for kind in kinds],
            ),
            Chart(
                title="受付から交付までの日数（期間内に交付した申請）",
                unit="件",
                bars=[
                    Bar(label, count)
                    for (label, _, _), count in zip(HANDLING_BUCKETS, histogram, strict=True)
                ],
            ),
        ],
        tables=[
            Table(
                key="by_kind",
                caption="手続ごとの受付件数",
                columns=("手続", "件数"),
                rows=[(kind.label, by_kind.get(kind.value, 0)) for kind in kinds],
                numeric=(1,),
            ),
            Table(
                key="by_clerk",
                caption="庁舎・窓口・職員ごとの受付件数",
                columns=("庁舎", "窓口", "受付者", "手続", "件数"),
                rows=detail_rows,
                note="期間内に受け付けた申請はありません。",
                numeric=(4,),
            ),
            Table(
                key="handling",
                caption="受付から交付までの日数（中央値・90パーセンタイル・最長・平均と日数の分布）",
                columns=(
                    "手続",
                    "交付件数",
                    "中央値(日)",
                    "90%(日)",
                    "最長(日)",
                    "平均(日)",
                    *(label for label, _, _ in HANDLING_BUCKETS),
                ),
                rows=handling_rows,
                note="期間内に交付した申請はありません。",
                numeric=tuple(range(1, 6 + len(HANDLING_BUCKETS))),
            ),
        ],
    )


# --- 3. card stock -------------------------------------------------------------------------------


def stock_band_cards(*, user: User, filters: Filters, today: date, band: int) -> QuerySet[Card]:
    earliest, latest = stock_band_bounds(index=band, today=today)
    cards = scoped(Card.objects.filter(state=CardState.ARRIVED), user, filters).filter(
        arrived_on__lte=latest
    )
    return cards.filter(arrived_on__gt=earliest) if earliest is not None else cards


def stock_report(*, user: User, filters: Filters, today: date, band: int | None = None) -> Report:
    """Cards that arrived and wait for their holder, by how long (R-ISS-1), as of today; the
    list behind a bar (``band``); and the pickup letters returned undeliverable in the period.
    """
    waiting = scoped(Card.objects.filter(state=CardState.ARRIVED), user, filters)
    aggregates = {}
    for index in range(len(STOCK_BANDS)):
        earliest, latest = stock_band_bounds(index=index, today=today)
        condition = Q(arrived_on__lte=latest)
        if earliest is not None:
            condition &= Q(arrived_on__gt=earliest)
        aggregates[f"b{index}"] = Count("pk", filter=condition)
    counts = waiting.aggregate(**aggregates)
    query = f"?office={filters.office_id}&" if filters.office_id else "?"
    href = reverse("reports:stock")
    bars = [
        Bar(label, counts[f"b{index}"], href=f"{href}{query}band={index}#list")
        for index, (label, _, _) in enumerate(STOCK_BANDS)
    ]
    tables = [
        Table(
            key="bands",
            caption="未交付カード（到着からの期間、本日現在）",
            columns=("到着からの期間", "枚数"),
            rows=[(bar.label, int(bar.value)) for bar in bars],
            numeric=(1,),
        )
    ]
    if band is not None:
        rows = list(
            stock_band_cards(user=user, filters=filters, today=today, band=band)
            .select_related("resident", "office")
            .order_by("arrived_on", "id")
            .values_list(
                "arrived_on",
                "office__name",
                "resident__family_name",
                "resident__given_name",
                "expires_on",
            )[: LIST_LIMIT + 1]
        )
        more = len(rows) > LIST_LIMIT
        tables.append(
            Table(
                key="list",
                caption=f"{STOCK_BANDS[band][0]}のカード（到着の古い順"
                + (f"、先頭{LIST_LIMIT}件" if more else "")
                + "）",
                columns=("到着日", "交付庁舎", "住民", "カードの有効期限", "待っている日数"),
                rows=[
                    (
                        arrived,
                        office,
                        f"{family}\u3000{given}",
                        expires,
                        (today - arrived).days if arrived else None,
                    )
                    for arrived, office, family, given, expires in rows[:LIST_LIMIT]
                ],
                note="この期間に該当するカードはありません。",
                numeric=(4,),
                personal=True,
            )
        )
    returned = scoped(
        Notice.objects.filter(kind=NoticeKind.PICKUP, returned_on__isnull=False),
        user,
        filters,
        office="resident__office_id",
    ).filter(returned_on__gte=filters.period.start, returned_on__lte=filters.period.end)
    returned_rows = list(
        returned.order_by("returned_on", "pk").values_list(
            "returned_on",
            "resident__office__name",
            "resident__family_name",
            "resident__given_name",
            "pk",
        )[: LIST_LIMIT + 1]
    )
    from apps.notices.rules import format_reference_code, reference_code_for

    tables.append(
        Table(
            key="returned",
            caption="宛所不明で返戻された交付通知書（期間内）",
            columns=("返戻日", "庁舎", "住民", "整理番号"),
            rows=[
                (
                    on,
                    office,
                    f"{family}\u3000{given}",
                    format_reference_code(reference_code_for(pk)),
                )
                for on, office, family, given, pk in returned_rows[:LIST_LIMIT]
            ],
            note="期間内に返戻された交付通知書はありません。",
            personal=True,
        )
    )
    return Report(
        slug="stock",
        title="未交付カードの在庫",
        charts=[Chart(title="未交付カード（到着からの期間）", unit="枚", bars=bars)],
        tables=tables,
        notes=["在庫は本日現在の数です（期間の指定は返戻された通知書に使います）。"],
    )


# --- 4. money ------------------------------------------------------------------------------------


def money_report(*, user: User, filters: Filters) -> Report:
    """Fees by day, fee row and counter; waivers with reasons and approvers; voids; the
    closes with their differences (R-REI-3 and the daily close)."""
    period = filters.period
    payments = scoped(Payment.objects.filter(voided=False), user, filters).filter(
        business_date__gte=period.start, business_date__lte=period.end
    )
    per_day = dict(
        payments.values_list("business_date")
        .annotate(total=Sum("amount_yen"))
        .values_list("business_date", "total")
    )
    days = [period.start + timedelta(days=n) for n in range(period.days)]
    counters = _counter_names()
    by_row = list(
        payments.values("counter_id", "fee_row")
        .annotate(n=Count("pk"), total=Sum("amount_yen"))
        .order_by("counter_id", "fee_row")
    )
    start, end = _instants(period)
    waivers = list(
        scoped(FeeWaiver.objects.all(), user, filters)
        .filter(requested_at__gte=start, requested_at__lt=end)
        .order_by("requested_at", "pk")
        .values_list(
            "requested_at", "fee_row", "reason", "requested_by_id", "approved_by_id", "approved_at"
        )[:LIST_LIMIT]
    )
    voids = list(
        scoped(PaymentVoid.objects.all(), user, filters, office="payment__office_id")
        .filter(voided_at__gte=start, voided_at__lt=end)
        .order_by("voided_at", "pk")
        .values_list(
            "voided_at",
            "payment__fiscal_year",
            "payment__receipt_number",
            "payment__amount_yen",
            "reason",
            "voided_by_id",
        )[:LIST_LIMIT]
    )
    closes = list(
        scoped(DailyClose.objects.all(), user, filters)
        .filter(business_date__gte=period.start, business_date__lte=period.end)
        .order_by("business_date", "counter__code", "closed_at")
        .values_list(
            "business_date",
            "counter_id",
            "expected_cash_yen",
            "counted_cash_yen",
            "cashless_total_yen",
            "closed_by_id",
            "reopened_at",
        )[:LIST_LIMIT]
    )
    names = _staff_names(
        [w[3] for w in waivers]
        + [w[4] for w in waivers]
        + [v[5] for v in voids]
        + [c[5] for c in closes]
    )

    return Report(
        slug="money",
        title="手数料の収納",
        charts=[
            Chart(
                title="日ごとの手数料収入（取消を除く）",
                unit="円",
                bars=[Bar(f"{day.month}/{day.day}", per_day.get(day, 0)) for day in days],
            )
        ],
        tables=[
            Table(
                key="by_day",
                caption="日ごとの手数料収入",
                columns=("領収日", "金額(円)"),
                rows=[(day, per_day.get(day, 0)) for day in days],
                numeric=(1,),
            ),
            Table(
                key="by_row",
                caption="窓口・区分ごとの手数料",
                columns=("窓口", "区分", "件数", "金額(円)"),
                rows=[
                    (
                        counters.get(r["counter_id"], "—"),
                        FeeRow(r["fee_row"]).label,
                        r["n"],
                        r["total"],
                    )
                    for r in by_row
                ],
                note="期間内の領収はありません。",
                numeric=(2, 3),
            ),
            Table(
                key="waivers",
                caption="手数料の免除（申出の理由と承認者）",
                columns=("申出日時", "区分", "理由", "申出者", "承認者", "承認日時"),
                rows=[
                    (
                        at,
                        FeeRow(row).label,
                        reason,
                        names.get(by, "—"),
                        names.get(approver, "（承認待ち）") if approver else "（承認待ち）",
                        approved_at,
                    )
                    for at, row, reason, by, approver, approved_at in waivers
                ],
                note="期間内の免除はありません。",
            ),
            Table(
                key="voids",
                caption="領収の取消",
                columns=("取消日時", "領収番号", "金額(円)", "理由", "取消者"),
                rows=[
                    (
                        at,
                        f"{fiscal_year_name(fy)} 第{number:06d}号",
                        amount,
                        reason,
                        names.get(by, "—"),
                    )
                    for at, fy, number, amount, reason, by in voids
                ],
                note="期間内の取消はありません。",
                numeric=(2,),
            ),
            Table(
                key="closes",
                caption="日計（現金の差額）",
                columns=(
                    "業務日",
                    "窓口",
                    "現金の領収額",
                    "現金の実査額",
                    "差額",
                    "キャッシュレス",
                    "締め者",
                    "状態",
                ),
                rows=[
                    (
                        day,
                        counters.get(counter, "—"),
                        expected,
                        counted,
                        counted - expected,
                        cashless,
                        names.get(by, "—"),
                        "再開済" if reopened else "締め済",
                    )
                    for day, counter, expected, counted, cashless, by, reopened in closes
                ],
                note="期間内の日計はありません。",
                numeric=(2, 3, 4, 5),
            ),
        ],
    )


# --- 5. the expiry wave --------------------------------------------------------------------------

# Both read the nightly materialized views of apps.reports.summaries (migration 0002), which say
# how the classes are told apart and how the counter time is measured.
_WAVE_SQL = """
SELECT month, office_id, class, n, computed_at FROM reports_expirywave
WHERE month >= %(start)s AND month < %(end)s {office}
"""
_COUNTER_MINUTES_SQL = """
SELECT step, minutes, samples, computed_at FROM reports_counterminutes WHERE scope = %(scope)s
"""


@dataclass(frozen=True)
class CounterMinutes:
    receive: float | None  # median minutes of a receipt, None when nothing was measured
    handover: float | None
    samples: int

    @property
    def per_renewal(self) -> float | None:
        """A renewal takes two visits: the application and the handover."""
        if self.receive is None or self.handover is None:
            return None
        return self.receive + self.handover


def _office_clause(user: User, filters: Filters, column: str) -> tuple[str, dict[str, Any]]:
    """The report scope as SQL: the user's office, or the chosen one, or the whole city."""
    if policy.reads_whole_city_reports(user):
        office_id = filters.office_id
    else:
        office_id = (
            user.office_id if filters.office_id in (None, user.office_id) else uuid.UUID(int=0)
        )
    if office_id is None:
        return "", {}
    return f"AND {column} = %(office_id)s", {"office_id": office_id}


def counter_minutes(*, user: User, filters: Filters) -> CounterMinutes:
    """The measured minutes of a receipt and of a handover, for the user's scope."""
    if not policy.may_read_reports(user):
        return CounterMinutes(None, None, 0)
    _, params = _office_clause(user, filters, "office_id")
    scope = str(params["office_id"]) if params else "city"
    with connection.cursor() as cursor:
        cursor.execute(_COUNTER_MINUTES_SQL, {"scope": scope})
        measured = {step: (minutes, n) for step, minutes, n, _ in cursor.fetchall()}
    receive, handover = measured.get("receive"), measured.get("handover")
    return CounterMinutes(
        receive=round(receive[0], 1) if receive else None,
        handover=round(handover[0], 1) if handover else None,
        samples=sum(n for _, n in measured.values()),
    )


def wave_report(*, user: User, filters: Filters, today: date) -> Report:
    """Cards and certificates expiring per month for the next 24 months, by office and by
    nationals / foreign residents whose card ends with the stay, with the counter hours the
    renewals will take at the measured handling times (R-VAL-2, R-VAL-6, R-CRT-5)."""
    months = wave_months(today)
    span = {"start": months[0], "end": add_months(months[-1], 1)}
    rows: list[tuple[Any, ...]] = []
    if policy.may_read_reports(user):
        clause, params = _office_clause(user, filters, "office_id")
        with connection.cursor() as cursor:
            cursor.execute(_WAVE_SQL.format(office=clause), {**span, **params})
            rows = cursor.fetchall()
    classes = ("national", "foreign_national", "stay")
    per_month: dict[date, dict[str, int]] = {month: dict.fromkeys(classes, 0) for month in months}
    per_office: dict[tuple[date, Any], int] = {}
    certificates: dict[date, dict[str, int]] = {month: {} for month in months}
    computed_at = max((row[4] for row in rows), default=None)
    for month, office_id, kind, n, _ in rows:
        if kind.startswith("cert_"):
            certificates[month][kind.removeprefix("cert_")] = (
                certificates[month].get(kind.removeprefix("cert_"), 0) + n
            )
            continue
        per_month[month][kind] += n
        per_office[(month, office_id)] = per_office.get((month, office_id), 0) + n
    minutes = counter_minutes(user=user, filters=filters)
    offices = _office_names()
    month_label = "{0.year}年{0.month}月".format
    table_rows: list[tuple[Any, ...]] = []
    for month in months:
        cards = sum(per_month[month].values())
        table_rows.append(
            (
                month_label(month),
                per_month[month]["national"],
                per_month[month]["foreign_national"],
                per_month[month]["stay"],
                cards,
                certificates[month].get(CertificateKind.AUTH.value, 0),
                certificates[month].get(CertificateKind.SIGNING.value, 0),
                counter_hours(procedures=cards, minutes_per_procedure=minutes.per_renewal),
            )
        )
    notes = [
        "毎晩の集計です（"
        + (
            f"{format_both(timezone.localdate(computed_at))} "
            f"{timezone.localtime(computed_at):%H:%M}時点"
            if computed_at
            else "まだ集計されていません"
        )
        + "）。",
        "「在留期間で終わるカード」は、有効期限が在留期間の満了日と同じ外国人住民のカードです"
        "（有効期限の変更手続の対象）。",
    ]
    if minutes.per_renewal is None:
        notes.append(
            f"窓口の処理時間は、直近{COUNTER_MEASURE_DAYS}日の受付・交付の記録から計測します。"
            "計測できる記録がまだないため、窓口の所要時間は表示していません。"
        )
    else:
        notes.append(
            f"窓口の所要時間は直近{COUNTER_MEASURE_DAYS}日の実績（受付 {minutes.receive}分・"
            f"交付 {minutes.handover}分、中央値、{minutes.samples:,}件から計測）で計算しています。"
        )
    return Report(
        slug="wave",
        title="有効期限の波（今後24か月）",
        charts=[
            Chart(
                title="月ごとに有効期限を迎えるカード",
                unit="枚",
                bars=[Bar(row[0], row[4]) for row in table_rows],
            )
        ],
        tables=[
            Table(
                key="months",
                caption="月ごとに有効期限を迎えるカード・電子証明書と窓口の所要時間",
                columns=(
                    "月",
                    "日本人",
                    "外国人（国の基準）",
                    "外国人（在留期間で終わるカード）",
                    "カード計",
                    "利用者証明用電子証明書",
                    "署名用電子証明書",
                    "カード更新の窓口所要時間(時間)",
                ),
                rows=table_rows,
                numeric=(1, 2, 3, 4, 5, 6, 7),
            ),
            Table(
                key="offices",
                caption="月・庁舎ごとに有効期限を迎えるカード",
                columns=("月", "庁舎", "カード"),
                rows=[
                    (month_label(month), offices.get(office_id, "—"), n)
                    for (month, office_id), n in sorted(
                        per_office.items(),
                        key=lambda item: (item[0][0], offices.get(item[0][1], "")),
                    )
                ],
                note="今後24か月に有効期限を迎えるカードはありません。",
                numeric=(2,),
            ),
        ],
        notes=notes,
    )


# --- 6. notice reconciliation (R-NOT-4) ----------------------------------------------------------


def reconciliations_for(
    user: User, filters: Filters | None = None
) -> QuerySet[NoticeReconciliation]:
    return scoped(
        NoticeReconciliation.objects.select_related("office", "imported_by"), user, filters
    )


def reconciliation_report(
    *, user: User, filters: Filters, selected: NoticeReconciliation | None = None
) -> Report:
    """The imports of J-LIS's posted-notices list and, for one, who was missing from it."""
    imports = list(reconciliations_for(user, filters).order_by("-month", "-imported_at")[:24])
    chosen = selected or (imports[0] if imports else None)
    month_label = "{0.year}年{0.month}月".format
    tables = [
        Table(
            key="imports",
            caption="J-LISの発送リストとの突合",
            columns=(
                "対象月",
                "庁舎",
                "通知の対象者",
                "J-LISの発送",
                "発送漏れ",
                "対象外への発送",
                "市から送る通知書",
                "取込者",
                "取込日時",
            ),
            rows=[
                (
                    month_label(r.month),
                    r.office.name,
                    r.due_count,
                    r.listed_count,
                    r.missing_count,
                    r.extra_count,
                    r.letters_created,
                    _staff_names([r.imported_by_id]).get(r.imported_by_id, "—"),
                    r.imported_at,
                )
                for r in imports
            ],
            note="J-LISの発送リストはまだ取り込まれていません。",
            numeric=(2, 3, 4, 5, 6),
        )
    ]
    if chosen is not None:
        missing = list(
            chosen.missing.order_by("expires_on", "card_id").values_list(
                "kind",
                "expires_on",
                "card__resident__family_name",
                "card__resident__given_name",
                "card__resident__resident_code",
            )[:LIST_LIMIT]
        )
        from apps.reports.rules import JLIS_KINDS

        tables.append(
            Table(
                key="missing",
                caption=f"{month_label(chosen.month)}の発送漏れ（市から通知書を送る方）",
                columns=("種類", "有効期限", "住民", "住民票コード"),
                rows=[
                    (JLIS_KINDS.get(kind, kind), expires, f"{family}\u3000{given}", code)
                    for kind, expires, family, given, code in missing
                ],
                note="発送漏れはありませんでした。",
                personal=True,
            )
        )
    return Report(
        slug="reconciliation",
        title="有効期限通知の突合（J-LISの発送リスト）",
        charts=[
            Chart(
                title=f"{month_label(chosen.month)}の突合" if chosen else "突合",
                unit="件",
                bars=[
                    Bar("通知の対象者", chosen.due_count),
                    Bar("J-LISの発送", chosen.listed_count),
                    Bar("発送漏れ", chosen.missing_count),
                    Bar("対象外への発送", chosen.extra_count),
                ]
                if chosen
                else [],
                note="J-LISの発送リストはまだ取り込まれていません。",
            )
        ],
        tables=tables,
    )


# --- 7. security ---------------------------------------------------------------------------------


def _tally(
    key: str, caption: str, columns: tuple[str, str], rows: list[tuple[Any, ...]], empty: str
) -> Table:
    """A table of (who or where, how many)."""
    return Table(key=key, caption=caption, columns=columns, rows=rows, note=empty, numeric=(1,))


def security_report(*, user: User, filters: Filters) -> Report:
    """Suspensions, lock releases, My Number reveals by user, reads with no matching resident,
    blocked handovers (R-AUD-1, R-AUD-3)."""
    from django.apps import apps

    start, end = _instants(filters.period)
    card_event = apps.get_model("cards", "CardEvent")
    # The card's office is not in its history rows (it never changes): read it from the card.
    suspended = scoped(card_event.objects.all(), user, filters, office="pgh_obj__office_id").filter(
        state=CardState.SUSPENDED, pgh_created_at__gte=start, pgh_created_at__lt=end
    )
    suspensions = dict(
        suspended.values_list("pgh_obj__office_id")
        .annotate(n=Count("pgh_obj_id", distinct=True))
        .values_list("pgh_obj__office_id", "n")
    )
    reveals = list(
        scoped(AccessLog.objects.filter(action=Action.REVEAL_MY_NUMBER), user, filters)
        .filter(at__gte=start, at__lt=end)
        .values("actor_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "actor_id")
    )
    names = _staff_names(row["actor_id"] for row in reveals)
    unmatched = list(
        scoped(
            CardRead.objects.filter(match=MatchMethod.NONE),
            user,
            filters,
            office="counter__office_id",
        )
        .filter(read_at__gte=start, read_at__lt=end)
        .values("counter_id")
        .annotate(n=Count("pk"))
        .order_by("counter_id")
    )
    # The procedures of issue 10 and 11: lock releases received (R-PIN-1), and the reads that
    # blocked a handover because the card on the reader was another one (R-HND-2).
    lock_releases = dict(
        scoped(Application.objects.filter(kind=ApplicationKind.LOCK_RELEASE), user, filters)
        .filter(received_at__gte=start, received_at__lt=end)
        .values_list("office_id")
        .annotate(n=Count("pk"))
        .values_list("office_id", "n")
    )
    blocked = list(
        scoped(HandoverReadCheck.objects.filter(matches=False), user, filters)
        .filter(checked_at__gte=start, checked_at__lt=end)
        .values("counter_id")
        .annotate(n=Count("pk"))
        .order_by("counter_id")
    )
    counters, offices = _counter_names(), _office_names()
    return Report(
        slug="security",
        title="セキュリティ",
        charts=[
            Chart(
                title="職員ごとの個人番号の表示回数",
                unit="回",
                bars=[Bar(names.get(row["actor_id"], "—"), row["n"]) for row in reveals],
                note="期間内の個人番号の表示はありません。",
            )
        ],
        tables=[
            _tally(
                "reveals",
                "職員ごとの個人番号の表示",
                ("職員", "回数"),
                [(names.get(row["actor_id"], "—"), row["n"]) for row in reveals],
                "期間内の個人番号の表示はありません。",
            ),
            _tally(
                "suspensions",
                "一時停止したカード",
                ("庁舎", "枚数"),
                sorted(((offices.get(o, "—"), n) for o, n in suspensions.items())),
                "期間内に一時停止したカードはありません。",
            ),
            _tally(
                "unmatched",
                "住民が見つからなかったカードの読み取り",
                ("窓口", "回数"),
                [(counters.get(row["counter_id"], "—"), row["n"]) for row in unmatched],
                "期間内に住民が見つからなかった読み取りはありません。",
            ),
            _tally(
                "lock_releases",
                "暗証番号のロック解除・再設定の受付",
                ("庁舎", "件数"),
                sorted(((offices.get(o, "—"), n) for o, n in lock_releases.items())),
                "期間内の暗証番号のロック解除はありません。",
            ),
            _tally(
                "blocked_handovers",
                "別のカードの読み取りで止めた交付",
                ("窓口", "回数"),
                [(counters.get(row["counter_id"], "—"), row["n"]) for row in blocked],
                "期間内に止めた交付はありません。",
            ),
        ],
    )


# --- 1. the supervisor's home --------------------------------------------------------------------

# A home page shows how many; past this it says "this many or more" (no count of a big stock).
COUNT_CAP = 999


@dataclass(frozen=True)
class Capped:
    count: int
    more: bool  # there are more than ``count``


def _capped(queryset: QuerySet[Any]) -> Capped:
    count = queryset[: COUNT_CAP + 1].count()
    return Capped(count=min(count, COUNT_CAP), more=count > COUNT_CAP)


@dataclass(frozen=True)
class WaiverWaiting:
    application: Application
    may_approve: bool  # False for the supervisor who asked for it (four eyes, R-REI-3)


@dataclass(frozen=True)
class CounterDay:
    counter: Counter
    close: DailyClose | None  # today's close that counts, None if not closed yet
    takings_yen: int  # today's fees not voided
    payments: int


@dataclass(frozen=True)
class SupervisorWaiting:
    """What waits for a supervisor today: waivers to approve, closes, takings, uncollected cards."""

    today: date
    waivers: list[WaiverWaiting]
    counters: list[CounterDay]
    uncollected: list[tuple[str, Capped]]  # (age band, how many), newest band first
    blocked_handovers: Capped  # today's reads of another card that stopped a handover (R-HND-2)
    count_differences: Capped  # custody counts no supervisor has resolved yet (R-STK-2)

    @property
    def closes_missing(self) -> int:
        return sum(1 for day in self.counters if day.close is None)

    @property
    def closes_with_difference(self) -> int:
        return sum(1 for day in self.counters if day.close is not None and day.close.has_difference)

    @property
    def takings_yen(self) -> int:
        return sum(day.takings_yen for day in self.counters)


def supervisor_waiting(*, user: User, today: date, waiver_limit: int = 20) -> SupervisorWaiting:
    """The home of a supervisor (and, read only, of the auditor: the whole city)."""
    filters = Filters(period=Period(today, today))
    office_of_applications = "office_id"
    waiting = (
        scoped(Application.objects.all(), user, filters, office=office_of_applications)
        .filter(state__in=OPEN_STATES, waiver__isnull=False, waiver__approved_by__isnull=True)
        .select_related("resident", "waiver", "waiver__requested_by")
        .order_by("received_at")[:waiver_limit]
    )
    waivers = [
        WaiverWaiting(
            application=application,
            may_approve=policy.may_approve_waiver(user, application.waiver),
        )
        for application in waiting
    ]
    closes = {
        close.counter_id: close
        for close in scoped(DailyClose.objects.select_related("closed_by"), user, filters).filter(
            business_date=today, reopened_at__isnull=True
        )
    }
    takings = {
        counter_id: (total, n)
        for counter_id, total, n in scoped(Payment.objects.filter(voided=False), user, filters)
        .filter(business_date=today)
        .values_list("counter_id")
        .annotate(total=Sum("amount_yen"), n=Count("pk"))
        .values_list("counter_id", "total", "n")
    }
    counters = [
        CounterDay(
            counter=counter,
            close=closes.get(counter.pk),
            takings_yen=takings.get(counter.pk, (0, 0))[0],
            payments=takings.get(counter.pk, (0, 0))[1],
        )
        for counter in scoped(Counter.objects.select_related("office"), user, filters).order_by(
            "office__code", "code"
        )
    ]
    bands = [
        (label, _capped(stock_band_cards(user=user, filters=filters, today=today, band=index)))
        for index, (label, _, _) in enumerate(STOCK_BANDS)
    ]
    start, end = _instants(filters.period)
    blocked = scoped(HandoverReadCheck.objects.filter(matches=False), user, filters).filter(
        checked_at__gte=start, checked_at__lt=end
    )
    differences = (
        scoped(DailyCount.objects.all(), user, filters)
        .filter(resolved_at__isnull=True)
        .exclude(counted=F("expected"))
    )
    return SupervisorWaiting(
        today=today,
        waivers=waivers,
        counters=counters,
        uncollected=bands,
        blocked_handovers=_capped(blocked),
        count_differences=_capped(differences),
    )
