"""The clerk's screens for applications: thin, they parse, call a service, render."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import policy
from apps.accounts.policy import StaffRequest, require, resident_staff_required
from apps.applications.arrivals import HEADER, ArrivalFileError, arrivals_import
from apps.applications.forms import (
    ApplicationForm,
    ArrivalFileForm,
    CancelForm,
    HandoverForm,
    PaymentForm,
)
from apps.applications.models import Application
from apps.applications.rules import KIND_SLUGS, ApplicationState
from apps.applications.selectors import (
    application_get,
    application_history,
    arrival_imports_for,
    uncollected_cards,
)
from apps.applications.services import (
    application_cancel,
    application_hand_over,
    application_pay,
    application_receive,
    application_waiver_approve,
    fee_settled,
)
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.cards.rules import IN_HOLDERS_HANDS
from apps.core.http import apply_errors
from apps.core.wareki import format_both
from apps.fees.services import payment_is_settled
from apps.residents.selectors import resident_get


@require_http_methods(["GET", "POST"])
@resident_staff_required
def new(request: StaffRequest, resident_id: uuid.UUID, kind_slug: str) -> HttpResponse:
    kind = KIND_SLUGS.get(kind_slug)
    if kind is None:
        raise Http404
    resident = resident_get(user=request.user, resident_id=resident_id)
    form = ApplicationForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            application = application_receive(
                acting_user=request.user, resident=resident, data=form.to_input()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{kind.label}を受け付けました。")
            return redirect("applications:detail", application_id=application.pk)
    access_log_view(
        request, action=Action.VIEW_APPLICATION, resident=resident, detail={"form": kind_slug}
    )
    return render(
        request,
        "applications/form.html",
        {"form": form, "kind": kind, "kind_slug": kind_slug, "resident": resident},
    )


@require_http_methods(["GET"])
@resident_staff_required
def detail(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    return _render_detail(request, application)


def _render_detail(
    request: StaffRequest,
    application: Application,
    *,
    payment_form: PaymentForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    settled = fee_settled(application)
    access_log_view(
        request,
        action=Action.VIEW_APPLICATION,
        resident=application.resident,
        detail={"application": str(application.pk)},
    )
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "resident": application.resident,
            "settled": settled,
            "payment_settled": payment_is_settled(application.payment),
            "can_pay": application.is_open and application.fee_amount_yen > 0 and not settled,
            "waiver_pending": application.waiver_pending,
            # The same rule the service applies (policy.may_approve_waiver, R-REI-3).
            "can_approve": (
                application.is_open
                and application.waiver_pending
                and policy.may_approve_waiver(request.user, application.waiver)
            ),
            "can_hand_over": application.state_enum is ApplicationState.ARRIVED,
            "payment_form": payment_form or PaymentForm(),
            "cancel_form": cancel_form or CancelForm(),
            "history": application_history(application=application),
        },
        status=status,
    )


@require_POST
@resident_staff_required
def pay(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = application_pay(
                acting_user=request.user,
                application=application,
                method=form.cleaned_data["method"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"手数料 {payment.amount_yen:,}円を領収しました（{payment.receipt_label}）。",
            )
            return redirect("applications:detail", application_id=application.pk)
    application = application_get(user=request.user, application_id=application_id)
    return _render_detail(request, application, payment_form=form, status=400)


@require_POST
@require(policy.may_approve_waivers)
def approve_waiver(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    try:
        application_waiver_approve(acting_user=request.user, application=application)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, "手数料の免除を承認しました。カードを発注しました。")
    return redirect("applications:detail", application_id=application.pk)


@require_POST
@resident_staff_required
def cancel(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            application_cancel(
                acting_user=request.user,
                application=application,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "申請を取り下げました。")
            return redirect("applications:detail", application_id=application.pk)
    application = application_get(user=request.user, application_id=application_id)
    return _render_detail(request, application, cancel_form=form, status=400)


@require_http_methods(["GET", "POST"])
@resident_staff_required
def handover(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    if application.state_enum is not ApplicationState.ARRIVED:
        messages.error(request, "この申請のカードは交付できる状態ではありません。")
        return redirect("applications:detail", application_id=application.pk)
    old_card = application.old_card
    old_in_hand = old_card is not None and old_card.state in IN_HOLDERS_HANDS
    today = timezone.localdate()
    form = HandoverForm(
        request.POST or None, kind=application.kind_enum, old_card_in_hand=old_in_hand
    )
    if request.method == "POST" and form.is_valid():
        try:
            application_hand_over(
                acting_user=request.user, application=application, data=form.to_input(), on=today
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "カードを交付しました。")
            return redirect("applications:detail", application_id=application.pk)
    access_log_view(
        request,
        action=Action.VIEW_HANDOVER,
        resident=application.resident,
        detail={"application": str(application.pk)},
    )
    return render(
        request,
        "applications/handover.html",
        {
            "application": application,
            "resident": application.resident,
            "form": form,
            "old_in_hand": old_in_hand,
            "age": application.resident.age_on(today),
            "today": today,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET"])
@resident_staff_required
def uncollected(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    waiting = uncollected_cards(user=request.user, today=today, params=request.GET)
    access_log_view(
        request, action=Action.VIEW_LIST, detail={"list": "uncollected", "rows": len(waiting.rows)}
    )
    return render(
        request,
        "applications/uncollected.html",
        {"rows": waiting.rows, "page": waiting.page, "today": today},
    )


@require_http_methods(["GET", "POST"])
@resident_staff_required
def arrivals(request: StaffRequest) -> HttpResponse:
    form = ArrivalFileForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = arrivals_import(
                    acting_user=request.user, content=upload.read(), filename=upload.name
                )
            except ArrivalFileError as exc:
                for error in exc.messages:
                    form.add_error("file", error)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                record = result.record
                if result.created:
                    messages.success(
                        request,
                        f"{record.filename}を取り込みました：到着を記録 {record.applied_count}件、"
                        f"記録済 {record.already_count}件。",
                    )
                else:
                    at = timezone.localtime(record.imported_at)
                    messages.info(
                        request,
                        f"このファイルは{format_both(at.date())} {at:%H:%M}に取込済です。"
                        "何も変更していません。",
                    )
                return redirect("applications:arrivals")
    imports = arrival_imports_for(request.user)[:50]
    return render(
        request,
        "applications/arrivals.html",
        {"form": form, "imports": imports, "header": HEADER},
        status=status,
    )
