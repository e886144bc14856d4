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
from apps.applications.arrivals import (
    HEADER,
    ArrivalFileError,
    arrival_import_submit,
    max_bytes,
    too_large_message,
)
from apps.applications.card_service_views import render_card_service_detail
from apps.applications.forms import (
    ApplicationForm,
    ArrivalFileForm,
    CancelForm,
    HandoverForm,
    PaymentConfirmForm,
    PaymentForm,
    PaymentVoidForm,
)
from apps.applications.models import Application
from apps.applications.rules import (
    CARD_SERVICE_KINDS,
    KIND_SLUGS,
    ApplicationKind,
    ApplicationState,
)
from apps.applications.selectors import (
    application_get,
    application_history,
    arrival_import_get,
    arrival_imports_for,
    uncollected_cards,
)
from apps.applications.services import (
    application_cancel,
    application_hand_over,
    application_pay,
    application_payment_void,
    application_receive,
    application_waiver_approve,
    fee_settled,
)
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.cards.rules import IN_HOLDERS_HANDS
from apps.core.http import apply_errors
from apps.core.uploads import upload_too_large
from apps.core.wareki import format_both
from apps.fees.models import PaymentMethod
from apps.fees.rules import FeeRow, ReissueReason, VoidOutcome
from apps.fees.selectors import payment_get
from apps.fees.services import payment_is_settled
from apps.residents.selectors import resident_get

# Cards at the office, waiting for their holder: arrived, or an express card whose registered
# letter came back undelivered (R-EXP-3, issue 10).
_HANDOVER_STATES = frozenset({ApplicationState.ARRIVED, ApplicationState.RETURNED_UNDELIVERED})


@require_http_methods(["GET", "POST"])
@resident_staff_required
def new(request: StaffRequest, resident_id: uuid.UUID, kind_slug: str) -> HttpResponse:
    kind = KIND_SLUGS.get(kind_slug)
    if kind is None:
        raise Http404
    resident = resident_get(user=request.user, resident_id=resident_id)
    # Issue 10: the card-change screen's "full endorsement field" offer opens the reissue with
    # its reason chosen (R-CHG-2); anything else in the query is ignored.
    initial = (
        {"reissue_reason": ReissueReason.ENDORSEMENT_FULL.value}
        if kind is ApplicationKind.REISSUE and request.GET.get("reason") == "endorsement_full"
        else {}
    )
    form = ApplicationForm(request.POST or None, kind=kind, initial=initial)
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
    if application.kind_enum in CARD_SERVICE_KINDS:
        return render_card_service_detail(request, application)
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
            "can_hand_over": application.state_enum in _HANDOVER_STATES and settled,
            "today": timezone.localdate(),
            "may_void": policy.may_void_payments(request.user) and application.is_open,
            "payment_form": payment_form or PaymentForm(),
            "cancel_form": cancel_form or CancelForm(),
            "history": application_history(application=application),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@resident_staff_required
def pay(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    """GET: the confirmation (amount, method, payer); POST from it: record the payment.

    Taking money is a deliberate step: the application page only leads here, and the
    confirmation's own key makes a double click or a re-sent form return the first receipt.
    """
    application = application_get(user=request.user, application_id=application_id)
    if request.method == "GET":
        choice = PaymentForm(request.GET)
        if not choice.is_valid():
            return _render_detail(request, application, payment_form=choice, status=400)
        form = PaymentConfirmForm(
            initial={"method": choice.cleaned_data["method"], "submission": uuid.uuid4()}
        )
        return _render_confirm(request, application, form, method=choice.cleaned_data["method"])
    form = PaymentConfirmForm(request.POST)
    if form.is_valid():
        try:
            taken = application_pay(
                acting_user=request.user,
                application=application,
                method=form.cleaned_data["method"],
                idempotency_key=str(form.cleaned_data["submission"]),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            payment = taken.payment
            if taken.created:
                messages.success(
                    request,
                    f"手数料 {payment.amount_yen:,}円を領収しました（{payment.receipt_label}）。",
                )
            else:
                messages.info(
                    request,
                    f"この領収は記録済です（{payment.receipt_label}）。二重には記録していません。",
                )
            return redirect("applications:detail", application_id=application.pk)
    # Back on the application page (which now shows the fee as it stands), with the reason.
    application = application_get(user=request.user, application_id=application_id)
    payment_form = PaymentForm({"method": form.data.get("method", PaymentMethod.CASH.value)})
    if payment_form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                payment_form.add_error(None, error)
    return _render_detail(request, application, payment_form=payment_form, status=400)


def _render_confirm(
    request: StaffRequest, application: Application, form: PaymentConfirmForm, *, method: str
) -> HttpResponse:
    if not (application.is_open and application.fee_amount_yen > 0) or fee_settled(application):
        messages.info(request, "この申請に領収する手数料はありません。")
        return redirect("applications:detail", application_id=application.pk)
    return render(
        request,
        "applications/pay_confirm.html",
        {
            "application": application,
            "resident": application.resident,
            "form": form,
            "method_label": PaymentMethod(method).label,
            "fee_row_label": FeeRow(application.fee_row).label,
            "today": timezone.localdate(),
        },
    )


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
    if application.state_enum not in _HANDOVER_STATES:
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
    """Upload a J-LIS arrivals file: checked at once, imported in the background."""
    form = ArrivalFileForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if upload_too_large(request):
            # The handler dropped the file for its size: say that, not "required".
            form.is_valid()
            form.errors["file"] = form.error_class([too_large_message()])
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = arrival_import_submit(
                    acting_user=request.user, content=upload.read(), filename=upload.name or ""
                )
            except ArrivalFileError as exc:
                for error in exc.messages:
                    form.add_error("file", error)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                record = result.record
                if not result.created:
                    at = timezone.localtime(record.imported_at)
                    messages.info(
                        request,
                        f"このファイルは{format_both(at.date())} {at:%H:%M}に受け付け済です"
                        f"（{record.get_state_display()}）。何も変更していません。",
                    )
                return redirect("applications:arrival", import_id=record.pk)
    imports = arrival_imports_for(request.user)[:50]
    return render(
        request,
        "applications/arrivals.html",
        {"form": form, "imports": imports, "header": HEADER, "max_size": max_bytes()},
        status=status,
    )


@require_http_methods(["GET"])
@resident_staff_required
def arrival(request: StaffRequest, import_id: uuid.UUID) -> HttpResponse:
    """One import and how far it has got; htmx asks for the progress part every second."""
    record = arrival_import_get(user=request.user, import_id=import_id)
    template = (
        "applications/_arrival_progress.html"
        if getattr(request, "htmx", False)
        else "applications/arrival.html"
    )
    return render(request, template, {"record": record})


@require_http_methods(["GET", "POST"])
@require(policy.may_void_payments)
def payment_void(request: StaffRequest, payment_id: uuid.UUID) -> HttpResponse:
    """A supervisor voids a receipt and chooses what happens to its application."""
    payment = payment_get(user=request.user, payment_id=payment_id)
    application = (
        application_get(user=request.user, application_id=payment.application_id)
        if payment.application_id
        else None
    )
    form = PaymentVoidForm(request.POST or None, settles_application=application is not None)
    if request.method == "POST" and form.is_valid():
        try:
            application_payment_void(
                acting_user=request.user,
                payment=payment,
                reason=form.cleaned_data["reason"],
                outcome=form.cleaned_data["outcome"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            outcome = VoidOutcome(form.cleaned_data["outcome"])
            messages.success(
                request, f"{payment.receipt_label}を取り消しました（{outcome.label}）。"
            )
            if application is not None:
                return redirect("applications:detail", application_id=application.pk)
            return redirect("fees:payments")
    return render(
        request,
        "applications/payment_void.html",
        {"form": form, "payment": payment, "application": application},
        status=400 if request.method == "POST" else 200,
    )
