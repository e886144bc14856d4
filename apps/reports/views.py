"""The supervisor's home and reports: thin views over apps.reports.selectors.

Read only, for supervisors (their office) and the auditor (the whole city). Every export is
written to the access log (R-AUD-1) in the same transaction that reads it; no export holds a
My Number (no report selects one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import policy
from apps.accounts.policy import StaffRequest, reports_required, require
from apps.audit.models import Action
from apps.audit.services import access_log_record, access_log_view
from apps.core.http import apply_errors, client_ip
from apps.reports import selectors
from apps.reports.charts import render_svg
from apps.reports.forms import PostedNoticesForm, ReportFilterForm
from apps.reports.rules import JLIS_HEADER, STOCK_BANDS, default_period, presets
from apps.reports.selectors import Filters
from apps.reports.services import notices_reconcile
from apps.reports.tables import Report, cell_text, to_csv, to_xlsx

REPORTS: dict[str, str] = {
    "activity": "申請の受付と処理日数",
    "stock": "未交付カードの在庫",
    "money": "手数料の収納",
    "wave": "有効期限の波（今後24か月）",
    "reconciliation": "有効期限通知の突合",
    "security": "セキュリティ",
}


def _filters(request: StaffRequest, *, today: date) -> tuple[ReportFilterForm, Filters]:
    form = ReportFilterForm(request.GET or None, offices=selectors.offices_for(request.user))
    period = form.period(default=default_period(today))
    office_id = form.office_id() if form.is_bound else None
    return form, Filters(period=period, office_id=office_id)


def _build(slug: str, request: StaffRequest, filters: Filters, today: date) -> Report:
    user = request.user
    builders: dict[str, Callable[[], Report]] = {
        "activity": lambda: selectors.activity_report(user=user, filters=filters),
        "stock": lambda: selectors.stock_report(
            user=user, filters=filters, today=today, band=_band(request)
        ),
        "money": lambda: selectors.money_report(user=user, filters=filters),
        "wave": lambda: selectors.wave_report(user=user, filters=filters, today=today),
        "reconciliation": lambda: selectors.reconciliation_report(user=user, filters=filters),
        "security": lambda: selectors.security_report(user=user, filters=filters),
    }
    if slug not in builders:
        raise Http404
    return builders[slug]()


def _band(request: StaffRequest) -> int | None:
    value = request.GET.get("band", "")
    if value.isdigit() and int(value) < len(STOCK_BANDS):
        return int(value)
    return None


@require_GET
@reports_required
def home(request: StaffRequest) -> HttpResponse:
    """The supervisor's home: what waits, today's takings per counter, every report."""
    today = timezone.localdate()
    return render(
        request,
        "reports/home.html",
        {
            "waiting": selectors.supervisor_waiting(user=request.user, today=today),
            "reports": REPORTS,
            "is_supervisor": policy.is_supervisor(request.user),
        },
    )


def _context(report: Report, form: ReportFilterForm, today: date) -> dict[str, Any]:
    """What the report page draws: the charts as SVG, the cells as the screen says them."""
    return {
        "report": report,
        "charts": [(chart, render_svg(chart)) for chart in report.charts],
        "tables": [
            (table, [[cell_text(value) for value in row] for row in table.rows])
            for table in report.tables
        ],
        "form": form,
        "presets": presets(today),
        "reports": REPORTS,
    }


def _page(request: StaffRequest, slug: str, extra: dict[str, Any] | None = None) -> HttpResponse:
    today = timezone.localdate()
    form, filters = _filters(request, today=today)
    report = _build(slug, request, filters, today)
    query = request.GET.copy()
    query.pop("band", None)
    listed = sum(len(table.rows) for table in report.tables if table.personal)
    if listed:  # residents' names on the screen (R-AUD-1)
        access_log_view(
            request, action=Action.VIEW_LIST, detail={"list": f"report:{slug}", "rows": listed}
        )
    context = _context(report, form, today)
    context.update(filters=filters, query=query.urlencode(), **(extra or {}))
    return render(request, "reports/report.html", context)


def _report_view(slug: str) -> Callable[[StaffRequest], HttpResponse]:
    @require_GET
    @reports_required
    def view(request: StaffRequest) -> HttpResponse:
        return _page(request, slug)

    view.__name__ = slug
    view.__doc__ = f"The report {REPORTS[slug]}: chart, tables, filters, exports."
    return view


activity = _report_view("activity")
stock = _report_view("stock")
money = _report_view("money")
wave = _report_view("wave")
security = _report_view("security")


@require_GET
@reports_required
def reconciliation(request: StaffRequest) -> HttpResponse:
    return _page(
        request,
        "reconciliation",
        {
            "upload": PostedNoticesForm() if policy.may_reconcile_notices(request.user) else None,
            "jlis_header": JLIS_HEADER,
        },
    )


@require_POST
@require(policy.may_reconcile_notices)
def reconciliation_import(request: StaffRequest) -> HttpResponse:
    """R-NOT-4: import J-LIS's posted-notices list; the city writes to whoever it misses."""
    form = PostedNoticesForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = notices_reconcile(
                acting_user=request.user,
                month=form.cleaned_data["month"],
                content=upload.read(),
                filename=upload.name or "",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            record = result.record
            if result.created:
                messages.success(
                    request,
                    f"突合しました。発送漏れ {record.missing_count:,}件、"
                    f"市から送る通知書 {record.letters_created:,}通。",
                )
            else:
                messages.info(request, "このファイルは取込済みです（前回の突合結果を表示します）。")
            return redirect("reports:reconciliation")
    today = timezone.localdate()
    report = selectors.reconciliation_report(
        user=request.user, filters=Filters(period=default_period(today))
    )
    context = _context(report, ReportFilterForm(offices=selectors.offices_for(request.user)), today)
    context.update(upload=form, jlis_header=JLIS_HEADER)
    return render(request, "reports/report.html", context, status=400)


EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@require_GET
@reports_required
def export(request: StaffRequest, report: str) -> HttpResponse:
    """One report as CSV (one table, ``?table=``) or XLSX (every table, a sheet each)."""
    fmt = request.GET.get("format", "xlsx")
    if report not in REPORTS or fmt not in EXPORT_FORMATS:
        raise Http404
    today = timezone.localdate()
    _, filters = _filters(request, today=today)
    with transaction.atomic():
        built = _build(report, request, filters, today)
        table = built.table(request.GET.get("table", "")) if fmt == "csv" else None
        access_log_record(
            actor=request.user,
            action=Action.EXPORT,
            detail={
                "what": f"report:{report}",
                "format": fmt,
                "rows": len(table.rows) if table else sum(len(t.rows) for t in built.tables),
                "filters": {
                    "from": filters.period.start.isoformat(),
                    "to": filters.period.end.isoformat(),
                    "office": str(filters.office_id or ""),
                },
            },
            ip_address=client_ip(request),
        )
    stem = f"{report}_{filters.period.start:%Y%m%d}-{filters.period.end:%Y%m%d}"
    if table is not None:
        body, name = to_csv(table), f"{stem}_{table.key}.csv"
    else:
        body, name = to_xlsx(built), f"{stem}.xlsx"
    response = HttpResponse(body, content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
