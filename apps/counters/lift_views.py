"""The counter's screen for lifting a suspension (R-SUS-2): the card is read on this
counter's reader, the screen waits for that read (htmx, every second), then the identity
check and the lifting (apps.counters.services.suspension_lift_at_counter)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.accounts.policy import StaffRequest, resident_staff_required
from apps.applications.card_service_forms import LiftForm
from apps.applications.card_service_views import procedure_card
from apps.applications.rules import ApplicationKind
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.cards.models import Card
from apps.core.http import apply_errors
from apps.counters.models import CardRead
from apps.counters.rules import LIFT_READ_MAX_AGE_SECONDS
from apps.counters.services import suspension_lift_at_counter
from apps.residents.selectors import resident_get


def _latest_read(request: StaffRequest, card: Card | None) -> CardRead | None:
    """This counter's newest fresh read of ``card`` (None until the card is on the reader)."""
    counter_id = request.user.counter_id
    if card is None or counter_id is None:
        return None
    since = timezone.now() - timedelta(seconds=LIFT_READ_MAX_AGE_SECONDS)
    return (
        CardRead.objects.filter(counter_id=counter_id, card=card, read_at__gte=since)
        .order_by("-id")
        .first()
    )


@require_http_methods(["GET", "POST"])
@resident_staff_required
def suspension_lift(request: StaffRequest, resident_id: uuid.UUID) -> HttpResponse:
    resident = resident_get(user=request.user, resident_id=resident_id)
    card = procedure_card(resident=resident, kind=ApplicationKind.SUSPENSION_LIFT)
    form = LiftForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if card is None:
            form.is_valid()
            form.add_error(None, "一時停止中のカードがありません。")
        elif form.is_valid():
            read = (
                CardRead.objects.filter(
                    pk=form.cleaned_data["read_id"], counter_id=request.user.counter_id
                ).first()
                if request.user.counter_id is not None and form.cleaned_data.get("read_id")
                else None
            )
            if read is None:
                form.add_error(None, "この窓口のリーダーでカードを読み取ってください。")
            else:
                try:
                    application = suspension_lift_at_counter(
                        acting_user=request.user, card=card, read=read, applicant=form.applicant()
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, "一時停止を解除しました。")
                    return redirect("applications:detail", application_id=application.pk)
    read = _latest_read(request, card)
    template = (
        "counters/_lift_read.html"
        if getattr(request, "htmx", False) and request.method == "GET"
        else "counters/suspension_lift.html"
    )
    if template.endswith("suspension_lift.html"):
        access_log_view(
            request, action=Action.VIEW_APPLICATION, resident=resident, detail={"form": "lift"}
        )
    return render(
        request,
        template,
        {
            "form": form,
            "resident": resident,
            "card": card,
            "read": read,
            "kind": ApplicationKind.SUSPENSION_LIFT,
            "has_counter": request.user.counter_id is not None,
        },
        status=status,
    )
