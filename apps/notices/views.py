"""Screens: the counter's reference-code lookup, returned letters, the supervisors' batches."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.policy import StaffRequest, resident_staff_required, supervisor_required
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.core.http import client_ip
from apps.notices import services
from apps.notices.forms import ReferenceCodeForm, ReturnedForm
from apps.notices.models import Notice
from apps.notices.selectors import (
    batch_get,
    batch_page,
    runs_recent,
)


def _lookup(request: StaffRequest, code: str) -> Notice | None:
    return services.notice_lookup_logged(
        acting_user=request.user, code=code, ip_address=client_ip(request)
    )


@require_http_methods(["GET", "POST"])
@resident_staff_required
def lookup(request: StaffRequest) -> HttpResponse:
    """Find a notice by the reference code on the letter (R-ISS-1: the counter scans it).

    POST, like the resident search: the code leads to a person, so it stays out of URLs.
    """
    form = ReferenceCodeForm(request.POST or None)
    notice: Notice | None = None
    searched = False
    if request.method == "POST" and form.is_valid():
        searched = True
        notice = _lookup(request, form.cleaned_data["code"])
    returned_form = (
        ReturnedForm(initial={"code": notice.reference_code}) if notice is not None else None
    )
    return render(
        request,
        "notices/lookup.html",
        {"form": form, "notice": notice, "searched": searched, "returned_form": returned_form},
    )


@require_POST
@resident_staff_required
def returned(request: StaffRequest) -> HttpResponse:
    """A letter came back 宛所不明: record it, flag the address, show the resident."""
    form = ReturnedForm(request.POST)
    valid = form.is_valid()
    notice: Notice | None = None
    if "code" in form.cleaned_data:
        notice = _lookup(request, form.cleaned_data["code"])
        if notice is None:
            raise Http404
    if valid and notice is not None:
        try:
            services.notice_mark_returned(
                acting_user=request.user, notice=notice, on=form.cleaned_data["returned_on"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, "宛所不明として記録し、住所の確認が必要であると表示しました。"
            )
            return redirect("residents:detail", resident_id=notice.resident_id)
    return render(
        request,
        "notices/lookup.html",
        {
            "form": ReferenceCodeForm(),
            "notice": notice,
            "searched": notice is not None,
            "returned_form": form,
        },
        status=400,
    )


@require_GET
@supervisor_required
def batch_list(request: StaffRequest) -> HttpResponse:
    page = batch_page(user=request.user, params=request.GET)
    return render(request, "notices/batch_list.html", {"page": page, "runs": runs_recent()})


@require_GET
@supervisor_required
def batch_detail(request: StaffRequest, batch_id: uuid.UUID) -> HttpResponse:
    batch = batch_get(user=request.user, batch_id=batch_id)
    returned_notices = (
        batch.notices.filter(returned_on__isnull=False)
        .select_related("resident", "returned_by")
        .order_by("returned_on", "id")
    )
    # The returned letters are listed by name (R-AUD-1: a look at those residents).
    access_log_view(
        request,
        action=Action.VIEW_LIST,
        detail={"list": "returned_letters", "batch": str(batch.pk), "rows": len(returned_notices)},
    )
    return render(
        request,
        "notices/batch_detail.html",
        {"batch": batch, "returned_notices": returned_notices},
    )


@require_GET
@supervisor_required
def batch_progress(request: StaffRequest, batch_id: uuid.UUID) -> HttpResponse:
    """The progress fragment htmx polls while a batch renders (it stops polling when done)."""
    batch = batch_get(user=request.user, batch_id=batch_id)
    return render(request, "notices/_progress.html", {"batch": batch})


def _batch_action(request: StaffRequest, batch_id: uuid.UUID, action: str) -> HttpResponse:
    batch = batch_get(user=request.user, batch_id=batch_id)
    try:
        if action == "render":
            services.batch_render_request(acting_user=request.user, batch=batch)
            messages.success(request, "PDFとCSVの作成を依頼しました。")
        elif action == "printed":
            services.batch_mark_printed(acting_user=request.user, batch=batch)
            messages.success(request, "印刷済として記録しました。")
        else:
            services.batch_mark_posted(acting_user=request.user, batch=batch)
            messages.success(request, "発送済として記録しました。")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("notices:batch", batch_id=batch.pk)


@require_POST
@supervisor_required
def batch_render(request: StaffRequest, batch_id: uuid.UUID) -> HttpResponse:
    return _batch_action(request, batch_id, "render")


@require_POST
@supervisor_required
def batch_printed(request: StaffRequest, batch_id: uuid.UUID) -> HttpResponse:
    return _batch_action(request, batch_id, "printed")


@require_POST
@supervisor_required
def batch_posted(request: StaffRequest, batch_id: uuid.UUID) -> HttpResponse:
    return _batch_action(request, batch_id, "posted")


_DOWNLOADS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


@require_GET
@supervisor_required
def batch_download(request: StaffRequest, batch_id: uuid.UUID, fmt: str) -> HttpResponse:
    """The batch's PDF or CSV. Names and addresses leave the system here: logged as export."""
    if fmt not in _DOWNLOADS:
        raise Http404
    batch = batch_get(user=request.user, batch_id=batch_id)
    name = batch.pdf if fmt == "pdf" else batch.csv
    if batch.render_state != batch.RenderState.DONE or not name or not default_storage.exists(name):
        raise Http404
    content = services.batch_download_logged(
        acting_user=request.user, batch=batch, fmt=fmt, ip_address=client_ip(request)
    )
    filename = f"notices-{batch.run_on.isoformat()}-{batch.kind}-{batch.sequence + 1}.{fmt}"
    response = HttpResponse(content, content_type=_DOWNLOADS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
