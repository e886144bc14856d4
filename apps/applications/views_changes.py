"""The clerk's screens for the card changes and express posting (issue 10): thin,
they parse, call a service, render."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.policy import StaffRequest, resident_staff_required
from apps.applications.forms_changes import CHANGE_FORMS, ContinuedUseForm, ExpressStepForm
from apps.applications.rules import CHANGE_KIND_SLUGS, ApplicationKind
from apps.applications.selectors import application_get
from apps.applications.selectors_changes import (
    card_room,
    continued_use_due_for,
    open_continued_use_of,
)
from apps.applications.services_changes import (
    address_change_receive,
    continued_use_receive,
    expiry_change_receive,
    former_surname_receive,
    name_change_receive,
)
from apps.applications.services_express import (
    application_express_delivered,
    application_express_posted,
    application_express_returned,
)
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.core.http import apply_errors
from apps.residents.models import Resident
from apps.residents.selectors import resident_get

# Kinds that write in the endorsement field: a full field offers the reissue instead (R-CHG-2).
_ENDORSING = frozenset(
    {
        ApplicationKind.ADDRESS_CHANGE,
        ApplicationKind.NAME_CHANGE,
        ApplicationKind.FORMER_SURNAME,
        ApplicationKind.CONTINUED_USE,
    }
)


def _receive(
    request: StaffRequest, kind: ApplicationKind, resident: Resident, form: Any
) -> tuple[uuid.UUID, str]:
    """Call the kind's service; answer the application and the message for the clerk."""
    user = request.user
    data = form.to_input()
    if kind is ApplicationKind.ADDRESS_CHANGE:
        application = address_change_receive(acting_user=user, resident=resident, data=data)
        return application.pk, "住所の変更を追記し、署名用電子証明書を失効させました。"
    if kind is ApplicationKind.NAME_CHANGE:
        application = name_change_receive(acting_user=user, resident=resident, data=data)
        return application.pk, "氏名の変更を追記し、署名用電子証明書を失効させました。"
    if kind is ApplicationKind.FORMER_SURNAME:
        application = former_surname_receive(acting_user=user, resident=resident, data=data)
        return application.pk, "旧氏を追記欄に併記し、署名用電子証明書を失効させました。"
    if kind is ApplicationKind.CONTINUED_USE:
        result = continued_use_receive(acting_user=user, resident=resident, data=data)
        if result.voided is not None:
            return result.application.pk, (
                f"このカードは継続利用できず、廃止しました（{result.voided.label}）。"
                "新たな交付申請を案内してください。"
            )
        if result.application.endorsement_id is None:
            return (
                result.application.pk,
                "転入を記録しました。期限までに継続利用の手続をしてください。",
            )
        return (
            result.application.pk,
            "継続利用の手続をしました（住所を追記、署名用電子証明書は失効）。",
        )
    special = kind is ApplicationKind.SPECIAL_EXTENSION
    application = expiry_change_receive(
        acting_user=user, resident=resident, data=data, special=special
    )
    return application.pk, "カードの有効期限を変更しました（電子証明書の有効期限は変わりません）。"


@require_http_methods(["GET", "POST"])
@resident_staff_required
def change_new(request: StaffRequest, resident_id: uuid.UUID, kind_slug: str) -> HttpResponse:
    kind = CHANGE_KIND_SLUGS.get(kind_slug)
    if kind is None:
        raise Http404
    resident = resident_get(user=request.user, resident_id=resident_id)
    form_class = CHANGE_FORMS[kind]
    recorded = (
        open_continued_use_of(resident=resident) if kind is ApplicationKind.CONTINUED_USE else None
    )
    if form_class is ContinuedUseForm:
        form: Any = ContinuedUseForm(request.POST or None, recorded=recorded is not None)
    else:
        form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application_id, message = _receive(request, kind, resident, form)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("applications:detail", application_id=application_id)
    access_log_view(
        request, action=Action.VIEW_APPLICATION, resident=resident, detail={"form": kind_slug}
    )
    room = card_room(resident=resident)
    return render(
        request,
        "applications/change_form.html",
        {
            "form": form,
            "kind": kind,
            "resident": resident,
            "room": room,
            "offer_reissue": kind in _ENDORSING and room.full,
            "recorded": recorded,
            "today": timezone.localdate(),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET"])
@resident_staff_required
def continued_use_due(request: StaffRequest) -> HttpResponse:
    """The office's cards that must be registered for continued use in the next 14 days."""
    today = timezone.localdate()
    rows = continued_use_due_for(user=request.user, today=today)
    access_log_view(
        request, action=Action.VIEW_LIST, detail={"list": "continued_use_due", "rows": len(rows)}
    )
    return render(request, "applications/continued_use_due.html", {"rows": rows, "today": today})


_EXPRESS_STEPS = {
    "posted": "J-LISからの発送を記録しました。",
    "delivered": "配達を記録しました。カードは使用中になりました。",
    "returned": "返戻を記録しました。窓口で交付してください。",
}


@require_POST
@resident_staff_required
def express_step(request: StaffRequest, application_id: uuid.UUID, step: str) -> HttpResponse:
    """Record what happened to an express card J-LIS posted (R-EXP-3)."""
    if step not in _EXPRESS_STEPS:
        raise Http404
    application = application_get(user=request.user, application_id=application_id)
    form = ExpressStepForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("applications:detail", application_id=application.pk)
    on = form.cleaned_data["on"]
    try:
        if step == "posted":
            issued = form.issued()
            if issued is None:
                raise ValidationError("J-LISの発行日を入力してください。")
            application_express_posted(
                acting_user=request.user, application=application, issued_on=issued, posted_on=on
            )
        elif step == "delivered":
            application_express_delivered(
                acting_user=request.user, application=application, delivered_on=on
            )
        else:
            application_express_returned(
                acting_user=request.user, application=application, returned_on=on
            )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _EXPRESS_STEPS[step])
    return redirect("applications:detail", application_id=application.pk)
