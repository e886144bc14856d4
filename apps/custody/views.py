"""Custody screens and the handover interlock's endpoints: thin, the services decide."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import policy
from apps.accounts.policy import StaffRequest, require, resident_staff_required, supervisor_required
from apps.applications.selectors import application_get
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.core.http import apply_errors, client_ip
from apps.counters.models import CardRead
from apps.custody import selectors
from apps.custody.forms import CountForm, LotReceiveForm, MoveForm, PlaceForm, ResolveForm
from apps.custody.models import CardCustody, PlaceKind, SecondCheckReason
from apps.custody.rules import normalize_serial
from apps.custody.services import (
    card_setup_bind,
    custody_move,
    daily_count_record,
    daily_count_resolve,
    destruction_approve,
    destruction_request,
    handover_read_check,
    lot_receive,
    place_create,
    second_check_confirm,
    second_check_request,
)


def _errors(request: StaffRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- the stock ----------------------------------------------------------------------------------


@require_GET
@resident_staff_required
def index(request: StaffRequest) -> HttpResponse:
    """The office's cards in custody with their age (R-STK-3), places and lots (R-STK-1)."""
    today = timezone.localdate()
    stock = selectors.stock_for(user=request.user, today=today, params=request.GET)
    rows = stock.rows
    bands = selectors.band_counts(user=request.user, today=today)
    access_log_view(request, action=Action.VIEW_LIST, detail={"list": "custody", "rows": len(rows)})
    waiting = list(selectors.destructions_waiting_for(request.user))
    return render(
        request,
        "custody/index.html",
        {
            "today": today,
            "rows": rows,
            "page": stock.page,
            "bands": bands,
            "band_max": max([b.count for b in bands] + [1]),
            "places": list(selectors.places_for(request.user).filter(active=True)),
            "held": selectors.held_per_place(user=request.user),
            "lots": list(selectors.lots_for(request.user)[:20]),
            "not_received": selectors.arrivals_not_received(user=request.user),
            # R-STK-3: the second member of staff is a supervisor who did not record it.
            "approvable": {
                d.card_id for d in waiting if policy.may_approve_destruction(request.user, d)
            },
        },
    )


@require_http_methods(["GET", "POST"])
@supervisor_required
def places(request: StaffRequest) -> HttpResponse:
    """Custody places of the office (R-STK-1: configurable per office)."""
    form = PlaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            place_create(
                acting_user=request.user,
                name=form.cleaned_data["name"],
                kind=PlaceKind(form.cleaned_data["kind"]),
                sort_order=form.cleaned_data["sort_order"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "保管場所を追加しました。")
            return redirect("custody:places")
    return render(
        request,
        "custody/places.html",
        {"form": form, "places": list(selectors.places_for(request.user))},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@resident_staff_required
def lot_receive_view(request: StaffRequest) -> HttpResponse:
    form = LotReceiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "到着日と保管場所を選んでください。")
        return redirect("custody:index")
    place = selectors.place_get(user=request.user, place_id=form.cleaned_data["place"])
    try:
        lot = lot_receive(
            acting_user=request.user, place=place, arrived_on=form.cleaned_data["arrived_on"]
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("custody:index")
    messages.success(request, f"ロット{lot.number}（{lot.card_count}枚）を受け入れました。")
    return redirect("custody:setup", lot_id=lot.pk)


# --- pre-handover setup (R-HND-1) ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@resident_staff_required
def setup(request: StaffRequest, lot_id: uuid.UUID) -> HttpResponse:
    """交付前設定: one read after another, each bound to the next card of the lot."""
    lot = selectors.lot_get(user=request.user, lot_id=lot_id)
    if request.method == "POST":
        custody = selectors.custody_get(user=request.user, card_id=_uuid(request.POST.get("card")))
        read_id = request.POST.get("read", "")
        counter_id = request.user.counter_id
        read = (
            CardRead.objects.filter(pk=int(read_id), counter_id=counter_id).first()
            if read_id.isdigit() and len(read_id) < 19 and counter_id is not None
            else None
        )
        if read is None:
            messages.error(request, "カードをリーダーに置いてから登録してください。")
        else:
            try:
                card_setup_bind(acting_user=request.user, lot=lot, card=custody.card, read=read)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(
                    request, f"{custody.card.resident.full_name}さんのカードを登録しました。"
                )
        return redirect("custody:setup", lot_id=lot.pk)
    nxt = selectors.next_to_set_up(lot=lot)
    read = None
    bound_elsewhere: CardCustody | None = None
    if request.user.counter_id is not None:
        read = selectors.latest_fresh_read(
            counter_id=request.user.counter_id,
            fresh_seconds=int(settings.HANDOVER_READ_FRESH_SECONDS),
        )
        if read is not None and read.certificate_serial:
            bound_elsewhere = (
                CardCustody.objects.filter(auth_serial=normalize_serial(read.certificate_serial))
                .select_related("card__resident", "lot")
                .first()
            )
    done, total = selectors.lot_progress(lot=lot)
    if nxt is not None:
        access_log_view(
            request,
            action=Action.VIEW_CUSTODY,
            resident=nxt.card.resident,
            detail={"lot": str(lot.pk), "card": str(nxt.card_id)},
        )
    return render(
        request,
        "custody/setup.html",
        {
            "lot": lot,
            "next": nxt,
            "read": read,
            "bound_elsewhere": bound_elsewhere,
            "done": done,
            "total": total,
            "has_counter": request.user.counter_id is not None,
        },
    )


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


# --- one card's custody --------------------------------------------------------------------------


@require_GET
@require(policy.may_read_custody)
def card(request: StaffRequest, card_id: uuid.UUID) -> HttpResponse:
    """Where the card is and every move it made (R-STK-1); the auditor reads any card's."""
    custody = selectors.custody_get(user=request.user, card_id=card_id)
    access_log_view(
        request,
        action=Action.VIEW_CUSTODY,
        resident=custody.card.resident,
        detail={"card": str(custody.card_id)},
    )
    return render(
        request,
        "custody/card.html",
        {
            "custody": custody,
            "history": selectors.custody_history(custody=custody),
            "places": list(selectors.places_for(request.user).filter(active=True)),
            "may_move": policy.may_work_on(request.user, custody),
        },
    )


@require_POST
@resident_staff_required
def move(request: StaffRequest, card_id: uuid.UUID) -> HttpResponse:
    custody = selectors.custody_get(user=request.user, card_id=card_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        place_id = form.cleaned_data.get("place")
        place = selectors.place_get(user=request.user, place_id=place_id) if place_id else None
        try:
            custody_move(
                acting_user=request.user,
                card=custody.card,
                to_place=place,
                to_counter=bool(form.cleaned_data.get("to_counter")),
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, "カードの移動を記録しました。")
    else:
        messages.error(request, "移動先を選んでください。")
    return redirect("custody:card", card_id=custody.card_id)


@require_POST
@resident_staff_required
def destroy_request(request: StaffRequest, card_id: uuid.UUID) -> HttpResponse:
    """R-STK-3: the first member of staff records the destruction of an uncollected card."""
    custody = selectors.custody_get(user=request.user, card_id=card_id)
    try:
        destruction_request(acting_user=request.user, card=custody.card, on=timezone.localdate())
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "廃棄を記録しました。監督者の承認で廃棄が確定します。")
    return redirect("custody:index")


@require_POST
@supervisor_required
def destroy_approve(request: StaffRequest, card_id: uuid.UUID) -> HttpResponse:
    """R-STK-3: a supervisor, another member of staff, approves; the card is destroyed."""
    destruction = selectors.destruction_get(user=request.user, card_id=card_id)
    try:
        destruction_approve(
            acting_user=request.user, destruction=destruction, on=timezone.localdate()
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "廃棄を承認しました。申請は未受領で終了しました。")
    return redirect("custody:index")


# --- daily count (R-STK-2) ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@resident_staff_required
def counts(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    if request.method == "POST":
        form = CountForm(request.POST)
        if form.is_valid():
            place = selectors.place_get(user=request.user, place_id=form.cleaned_data["place"])
            try:
                count = daily_count_record(
                    acting_user=request.user,
                    place=place,
                    counted=form.cleaned_data["counted"],
                    on=today,
                )
            except ValidationError as exc:
                _errors(request, exc)
            else:
                if count.difference:
                    messages.error(
                        request,
                        f"{place.name}：台帳{count.expected}枚に対し{count.counted}枚でした。"
                        "差異は監督者が解決するまで残ります。",
                    )
                else:
                    messages.success(request, f"{place.name}：台帳と一致しました。")
        else:
            messages.error(request, "枚数を0以上の数で入力してください。")
        return redirect("custody:counts")
    return render(
        request,
        "custody/counts.html",
        {
            "today": today,
            "places": list(selectors.places_for(request.user).filter(active=True)),
            "counts": selectors.counts_for(user=request.user, on=today),
            "open": list(selectors.open_count_differences_for(request.user)),
            "resolve_form": ResolveForm(),
        },
    )


@require_POST
@supervisor_required
def count_resolve(request: StaffRequest, count_id: uuid.UUID) -> HttpResponse:
    count = selectors.count_get(user=request.user, count_id=count_id)
    form = ResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("解決の内容を500文字以内で記録してください。")
        daily_count_resolve(acting_user=request.user, count=count, note=form.cleaned_data["note"])
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "差異を解決済にしました。")
    return redirect("custody:counts")


# --- daily reconciliation ----------------------------------------------------------------------


@require_GET
@resident_staff_required
def reconciliation(request: StaffRequest) -> HttpResponse:
    raw = request.GET.get("on", "")
    try:
        on = date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        on = timezone.localdate()
    if not date(2000, 1, 1) <= on <= timezone.localdate():
        on = timezone.localdate()
    return render(
        request,
        "custody/reconciliation.html",
        {
            "on": on,
            "figures": selectors.reconciliation_for(user=request.user, on=on),
            "blocked": list(selectors.blocked_handovers_for(request.user, on)[:50]),
        },
    )


# --- the handover interlock (R-HND-2, R-HND-5) -------------------------------------------------


@require_POST
@resident_staff_required
def handover_check(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    """The live panel's read reached the handover screen: judge it, answer the panel's HTML."""
    application = application_get(user=request.user, application_id=application_id)
    try:
        handover_read_check(
            acting_user=request.user, application=application, ip_address=client_ip(request)
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return render(
        request,
        "custody/_interlock.html",
        {"view": selectors.interlock_view(user=request.user, application=application)},
    )


@require_POST
@resident_staff_required
def second_check_request_view(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    try:
        second_check_request(
            acting_user=request.user, application=application, reason=SecondCheckReason.FLAGGED
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "二人目の確認を依頼しました。別の職員が自分の画面で確認します。")
    return redirect(reverse("applications:handover", args=[application.pk]))


@require_GET
@resident_staff_required
def second_checks(request: StaffRequest) -> HttpResponse:
    waiting = list(selectors.second_checks_waiting_for(request.user)[:100])
    return render(
        request,
        "custody/second_checks.html",
        {
            "waiting": [
                (check, policy.may_confirm_second_check(request.user, check)) for check in waiting
            ]
        },
    )


@require_POST
@resident_staff_required
def second_check_confirm_view(request: StaffRequest, check_id: uuid.UUID) -> HttpResponse:
    check = selectors.second_check_get(user=request.user, second_check_id=check_id)
    try:
        second_check_confirm(acting_user=request.user, second_check=check)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "二人目の確認を記録しました。")
    return redirect("custody:second-checks")
