"""Fee screens: the schedule, the fee preview, receipts, voids and the daily close."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts import policy
from apps.accounts.policy import StaffRequest, require, resident_staff_required
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.core.http import apply_errors
from apps.core.wareki import format_both
from apps.fees.forms import (
    CloseChoiceForm,
    CloseForm,
    PaymentsFilterForm,
    QuoteForm,
    ReopenForm,
    ScheduleForm,
)
from apps.fees.receipts import receipt_filename, receipt_pdf
from apps.fees.rules import (
    DEFAULT_FEE_AMOUNTS,
    FeeRow,
    Procedure,
    ReissueReason,
    correction_window,
    old_card_returned_for_fee,
)
from apps.fees.selectors import (
    closable_counters,
    daily_close_get,
    daily_closes_for,
    fee_schedules,
    payment_get,
    payments_for,
)
from apps.fees.services import (
    close_totals,
    current_close,
    daily_close_record,
    daily_close_reopen,
    fee_quote,
    fee_schedule_add,
)


@require_GET
@resident_staff_required
def schedules(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    return render(
        request,
        "fees/schedules.html",
        {
            "schedules": fee_schedules(today=today),
            "today": today,
            "rows": list(FeeRow),
        },
    )


@require_http_methods(["GET", "POST"])
@require(policy.may_manage_fee_schedules)
def schedule_new(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    current = next((view for view in fee_schedules(today=today) if view.in_force), None)
    initial = dict(current.amounts) if current else dict(DEFAULT_FEE_AMOUNTS)
    form = ScheduleForm(request.POST or None, initial_amounts=initial)
    if request.method == "POST" and form.is_valid():
        try:
            schedule = fee_schedule_add(
                acting_user=request.user,
                starts_on=form.cleaned_data["starts_on"],
                amounts=form.amounts(),
                note=form.cleaned_data["note"],
                today=today,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"{format_both(schedule.starts_on)}から適用する手数料表を登録しました。"
            )
            return redirect("fees:schedules")
    return render(
        request,
        "fees/schedule_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@resident_staff_required
def quote(request: StaffRequest) -> HttpResponse:
    """The fee preview fragment on the application form (htmx). Shows the rule that decided."""
    form = QuoteForm(request.GET)
    context: dict[str, object] = {}
    if form.is_valid():
        reason = form.cleaned_data["reissue_reason"]
        procedure = Procedure(form.cleaned_data["procedure"])
        if procedure is Procedure.REISSUE and not reason:
            context["message"] = "再交付の理由を選ぶと手数料を表示します。"
        else:
            try:
                context["quote"] = fee_quote(
                    procedure=procedure,
                    reason=ReissueReason(reason) if reason else None,
                    with_certificates=form.cleaned_data["with_certificates"],
                    old_card_returned=old_card_returned_for_fee(
                        procedure=procedure,
                        reason=ReissueReason(reason) if reason else None,
                        old_card_returned=not form.cleaned_data["old_card_lost"],
                    ),
                    on=timezone.localdate(),
                    express=form.cleaned_data["express"],
                )
            except ValidationError as exc:
                context["message"] = " ".join(exc.messages)
    else:
        context["message"] = "手続を選んでください。"
    return render(request, "fees/_quote.html", context)


@require_GET
@resident_staff_required
def receipt(request: StaffRequest, payment_id: uuid.UUID) -> HttpResponse:
    payment = payment_get(user=request.user, payment_id=payment_id)
    access_log_view(
        request,
        action=Action.VIEW_RECEIPT,
        resident=payment.resident,
        detail={"payment": str(payment.pk)},
    )
    response = HttpResponse(receipt_pdf(payment=payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(payment)}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@resident_staff_required
def payments(request: StaffRequest) -> HttpResponse:
    form = PaymentsFilterForm(request.GET or None)
    day = (form.cleaned_data.get("business_date") if form.is_valid() else None) or (
        timezone.localdate()
    )
    rows = (
        payments_for(request.user)
        .filter(business_date=day)
        .select_related("counter", "resident", "received_by", "void")
        .order_by("receipt_number")
    )
    access_log_view(
        request,
        action=Action.VIEW_LIST,
        detail={"list": "payments", "day": day.isoformat(), "rows": rows.count()},
    )
    return render(
        request,
        "fees/payments.html",
        {
            "form": form,
            "day": day,
            "payments": rows,
        },
    )


@require_http_methods(["GET", "POST"])
@resident_staff_required
def close(request: StaffRequest) -> HttpResponse:
    """The day's close of one counter: what it took, then the count (item: closes that fit).

    The page shows the counter and day chosen above it (a clerk: their own counter; a
    supervisor: any counter of the office), and the form closes exactly that counter and day.
    """
    today = timezone.localdate()
    counters = closable_counters(request.user)
    posted = request.method == "POST"
    choice = CloseChoiceForm(
        request.POST if posted else (request.GET or None), counters=counters, today=today
    )
    chosen = choice.cleaned_data if choice.is_bound and choice.is_valid() else {}
    own = counters.filter(pk=request.user.counter_id).first() if request.user.counter_id else None
    counter = chosen.get("counter") or own or counters.first()
    day = chosen.get("business_date") or today
    initial = {"counter": counter.pk if counter else None, "business_date": day}
    if posted:
        form: CloseForm | None = CloseForm(request.POST, counters=counters, today=today)
    else:
        form = CloseForm(counters=counters, today=today, initial=initial) if counter else None
    if posted and form is not None and form.is_valid():
        try:
            closed = daily_close_record(
                acting_user=request.user,
                counter=form.cleaned_data["counter"],
                business_date=form.cleaned_data["business_date"],
                counted_cash_yen=form.cleaned_data["counted_cash_yen"],
                note=form.cleaned_data["note"],
                today=today,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            where = f"{closed.counter.name}の{format_both(closed.business_date)}"
            if closed.has_difference:
                messages.warning(
                    request,
                    f"{where}の日計を締めました。"
                    f"現金に {closed.difference_yen:+,}円 の差額があります。",
                )
            else:
                messages.success(request, f"{where}の日計を締めました。現金の過不足はありません。")
            return redirect(_close_url(closed.counter_id, closed.business_date))
    if posted or not choice.is_bound:
        # The choice shown is the one the page is about (a POST's hidden fields included).
        choice = CloseChoiceForm(counters=counters, today=today, initial=initial)
    failed = posted or (choice.is_bound and not choice.is_valid())
    return render(
        request,
        "fees/close.html",
        {
            "choice": choice,
            "form": form,
            "counter": counter,
            "day": day,
            "today": today,
            "totals": close_totals(counter=counter, business_date=day) if counter else None,
            "closed_now": (
                current_close(counter_id=counter.pk, business_date=day) if counter else None
            ),
            "closes": daily_closes_for(request.user)[:30],
            "may_reopen": policy.may_reopen_closes(request.user),
            "window_start": correction_window(today)[0],
            "picks_counter": policy.is_supervisor(request.user),
        },
        status=400 if failed else 200,
    )


def _close_url(counter_id: uuid.UUID, day: date) -> str:
    return f"{reverse('fees:close')}?counter={counter_id}&business_date={day.isoformat()}"


@require_http_methods(["GET", "POST"])
@require(policy.may_reopen_closes)
def reopen(request: StaffRequest, close_id: uuid.UUID) -> HttpResponse:
    """A supervisor reopens a close, with a reason, so a correction can be made that day."""
    closed = daily_close_get(user=request.user, close_id=close_id)
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            daily_close_reopen(
                acting_user=request.user, close=closed, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"{closed.counter.name}の{format_both(closed.business_date)}の日計を再開しました。"
                "訂正の後、もう一度締めてください。",
            )
            return redirect(_close_url(closed.counter_id, closed.business_date))
    return render(
        request,
        "fees/reopen.html",
        {"form": form, "closed": closed},
        status=400 if request.method == "POST" else 200,
    )
