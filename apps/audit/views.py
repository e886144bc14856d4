from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import policy
from apps.accounts.policy import StaffRequest, audit_staff_required, supervisor_required
from apps.audit.forms import LogFilterForm, ResidentCodeForm
from apps.audit.models import AccessLog, Action
from apps.audit.selectors import (
    access_log_page,
    access_logs_for,
    open_alerts_for,
    staff_for_audit,
)
from apps.audit.services import access_log_record, alert_acknowledge
from apps.core.csvsafe import csv_safe
from apps.core.http import client_ip

EXPORT_MAX_ROWS = 100_000


def _filter_form(request: StaffRequest) -> LogFilterForm:
    return LogFilterForm(request.GET or None, staff=staff_for_audit(request.user))


@require_GET
@audit_staff_required
def log(request: StaffRequest) -> HttpResponse:
    """Who looked at whose data, when and why. Filters are not personal data, so GET is fine."""
    form = _filter_form(request)
    logs = access_logs_for(request.user, **form.filters())
    page = access_log_page(logs, params=request.GET)
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "page": page,
            "code_form": ResidentCodeForm(),
            "alerts": open_alerts_for(request.user)[:20],
            "may_acknowledge": policy.is_supervisor(request.user),
        },
    )


@require_POST
@audit_staff_required
def by_resident_code(request: StaffRequest) -> HttpResponse:
    """Resident code → the log filtered by that resident (the code stays out of the URL)."""
    from apps.residents.models import Resident

    form = ResidentCodeForm(request.POST)
    query = QueryDict(mutable=True)
    if form.is_valid():
        resident = Resident.objects.filter(resident_code=form.cleaned_data["resident_code"]).first()
        if resident is None:
            messages.error(request, "その住民票コードの住民はいません。")
        else:
            query["resident"] = str(resident.pk)
    else:
        messages.error(request, "住民票コードは11桁の数字です。")
    return redirect(f"{reverse('audit:log')}?{query.urlencode()}")


@require_GET
@audit_staff_required
def export(request: StaffRequest) -> HttpResponse:
    """The filtered log as CSV (UTF-8 with BOM for Excel). The export is itself logged."""
    form = _filter_form(request)
    filters = form.filters()
    with transaction.atomic():
        rows = list(access_logs_for(request.user, **filters)[:EXPORT_MAX_ROWS])
        access_log_record(
            actor=request.user,
            action=Action.EXPORT,
            detail={
                "what": "access_log",
                "rows": len(rows),
                "filters": {k: str(v) for k, v in filters.items() if v},
            },
            ip_address=client_ip(request),
        )
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "連番",
            "日時",
            "職員",
            "庁舎",
            "窓口",
            "操作",
            "結果",
            "住民票コード",
            "住民",
            "利用目的",
            "詳細",
            "IPアドレス",
            "ハッシュ",
        ]
    )
    for row in rows:
        writer.writerow([csv_safe(str(value)) for value in _export_row(row)])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    return response


def _export_row(row: AccessLog) -> list[Any]:
    actor = row.actor
    return [
        row.seq,
        timezone.localtime(row.at).isoformat(),
        f"{actor.last_name} {actor.first_name}({actor.username})" if actor else "",
        row.office or "",
        row.counter_id or "",
        row.get_action_display(),
        row.get_outcome_display(),
        row.resident.resident_code if row.resident else "",
        row.resident.full_name if row.resident else "",
        row.get_purpose_display(),
        " ".join(f"{k}={v}" for k, v in row.detail.items()),
        row.ip_address or "",
        row.hash,
    ]


@require_POST
@supervisor_required
def alert_ack(request: StaffRequest, alert_id: int) -> HttpResponse:

    alert = get_object_or_404(open_alerts_for(request.user), pk=alert_id)
    alert_acknowledge(acting_user=request.user, alert=alert)
    messages.success(request, "警告を確認済みにしました。")
    return redirect("audit:log")
