"""The clerk's screens for procedures on a card in use: thin, they parse, call a service,
render. The lifting's screen is apps.counters' (it needs the counter's card read)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.policy import StaffRequest, resident_staff_required
from apps.applications.card_service_forms import (
    AnswerForm,
    ApplicantForm,
    CertificateForm,
    LockReleaseForm,
    ReturnForm,
)
from apps.applications.card_services import (
    CertificateInput,
    LockReleaseInput,
    ReturnInput,
    card_return,
    certificate_procedure,
    lock_release_answer_record,
    lock_release_complete,
    lock_release_receive,
)
from apps.applications.inquiry_letter import format_letter_code, inquiry_letter_pdf
from apps.applications.models import Application, CardProcedure
from apps.applications.rules import CARD_SERVICE_SLUGS, ApplicationKind, ReturnReason
from apps.applications.selectors import application_get, application_history
from apps.applications.services import documents_from
from apps.audit.models import Action
from apps.audit.services import access_log_view
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.models import PinState
from apps.certificates.rules import (
    CertificateAction,
    CertificateKind,
    PinKind,
    convenience_store_resettable,
)
from apps.core.http import apply_errors
from apps.residents.models import Resident
from apps.residents.selectors import resident_get

# Which card each procedure is about: the newest of these states.
_CARD_STATES: dict[ApplicationKind, tuple[CardState, ...]] = {
    ApplicationKind.CERTIFICATE: (CardState.ACTIVE, CardState.ARRIVED),
    ApplicationKind.LOCK_RELEASE: (CardState.ACTIVE,),
    ApplicationKind.CARD_RETURN: (
        CardState.ACTIVE,
        CardState.SUSPENDED,
        CardState.LOST,
        CardState.EXPIRED,
        CardState.ARRIVED,
    ),
    ApplicationKind.SUSPENSION_LIFT: (CardState.SUSPENDED, CardState.LOST),
}


def procedure_card(*, resident: Resident, kind: ApplicationKind) -> Card | None:
    """The card a procedure on ``resident`` (already scoped) is about, or None."""
    return (
        Card.objects.filter(resident=resident, state__in=_CARD_STATES[kind])
        .order_by("-applied_on", "-created_at")
        .first()
    )


def _form_for(kind: ApplicationKind, data: QueryDict | None, card: Card | None) -> ApplicantForm:
    if kind is ApplicationKind.CERTIFICATE:
        return CertificateForm(data)
    if kind is ApplicationKind.LOCK_RELEASE:
        locked = (
            [
                state.kind
                for state in PinState.objects.filter(card=card, tries_left=0).order_by("kind")
            ]
            if card is not None
            else []
        )
        return LockReleaseForm(data, initial={"pins": locked})
    return ReturnForm(data)


def _submit(
    request: StaffRequest, kind: ApplicationKind, form: ApplicantForm, card: Card
) -> Application:
    data = form.cleaned_data
    applicant = form.applicant()
    if kind is ApplicationKind.CERTIFICATE:
        return certificate_procedure(
            acting_user=request.user,
            card=card,
            data=CertificateInput(
                action=CertificateAction(data["action"]),
                kind=CertificateKind(data["kind"]),
                applicant=applicant,
                serial=data.get("serial", ""),
                legal_rep_requests=bool(data.get("legal_rep_requests")),
                reason=data.get("reason", ""),
            ),
        )
    if kind is ApplicationKind.LOCK_RELEASE:
        return lock_release_receive(
            acting_user=request.user,
            card=card,
            data=LockReleaseInput(
                applicant=applicant,
                pins=frozenset(PinKind(value) for value in data.get("pins", [])),
                card_presented=bool(data.get("card_presented")),
            ),
        )
    return card_return(
        acting_user=request.user,
        card=card,
        data=ReturnInput(
            reason=ReturnReason(data["reason"]), applicant=applicant, note=data.get("note", "")
        ),
    )


@require_http_methods(["GET", "POST"])
@resident_staff_required
def card_service_new(request: StaffRequest, resident_id: uuid.UUID, kind_slug: str) -> HttpResponse:
    kind = CARD_SERVICE_SLUGS.get(kind_slug)
    if kind is None or kind is ApplicationKind.SUSPENSION_LIFT:
        raise Http404
    resident = resident_get(user=request.user, resident_id=resident_id)
    card = procedure_card(resident=resident, kind=kind)
    form = _form_for(kind, request.POST if request.method == "POST" else None, card)
    status = 200
    if request.method == "POST":
        status = 400
        if card is None:
            form.is_valid()
            form.add_error(None, "この手続の対象となるカードがありません。")
        elif form.is_valid():
            try:
                application = _submit(request, kind, form, card)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{kind.label}を受け付けました。")
                return redirect("applications:detail", application_id=application.pk)
    access_log_view(
        request, action=Action.VIEW_APPLICATION, resident=resident, detail={"form": kind_slug}
    )
    pins = list(PinState.objects.filter(card=card).order_by("kind")) if card else []
    return render(
        request,
        "applications/card_services/form.html",
        {
            "form": form,
            "kind": kind,
            "resident": resident,
            "card": card,
            "pin_states": pins,
            "store_resettable": [k.label for k in convenience_store_resettable(set(PinKind))],
        },
        status=status,
    )


def render_card_service_detail(
    request: StaffRequest,
    application: Application,
    *,
    answer_form: AnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The detail page of a procedure on a card in use (applications:detail sends it here)."""
    procedure = (
        CardProcedure.objects.select_related("card", "certificate")
        .filter(pk=application.pk)
        .first()
    )
    access_log_view(
        request,
        action=Action.VIEW_APPLICATION,
        resident=application.resident,
        detail={"application": str(application.pk)},
    )
    return render(
        request,
        "applications/card_services/detail.html",
        {
            "application": application,
            "resident": application.resident,
            "procedure": procedure,
            "letter_code": (
                format_letter_code(procedure.letter_code)
                if procedure is not None and procedure.letter_code
                else ""
            ),
            "answer_form": answer_form or AnswerForm(),
            "history": application_history(application=application),
            "store_resettable": (
                [
                    k.label
                    for k in convenience_store_resettable({PinKind(p) for p in procedure.pins})
                ]
                if procedure is not None
                else []
            ),
        },
        status=status,
    )


def _lock_release(request: StaffRequest, application_id: uuid.UUID) -> Application:
    application = application_get(user=request.user, application_id=application_id)
    if application.kind != ApplicationKind.LOCK_RELEASE:
        raise Http404
    return application


@require_GET
@resident_staff_required
def lock_release_letter(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    """The inquiry-and-answer letter as a PDF, to post to the registered address (R-PIN-1)."""
    application = _lock_release(request, application_id)
    procedure = (
        CardProcedure.objects.select_related("application", "application__resident")
        .filter(pk=application.pk, letter_code__isnull=False)
        .first()
    )
    if procedure is None:
        raise Http404
    access_log_view(
        request,
        action=Action.VIEW_APPLICATION,
        resident=application.resident,
        detail={"application": str(application.pk), "letter": "inquiry"},
    )
    response = HttpResponse(inquiry_letter_pdf(procedure=procedure), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="inquiry-letter.pdf"'
    return response


@require_POST
@resident_staff_required
def lock_release_answer(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    """The proxy's second visit: the answered letter's code is typed back."""
    application = _lock_release(request, application_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            lock_release_answer_record(
                acting_user=request.user,
                application=application,
                letter_code=form.cleaned_data["letter_code"],
                documents=documents_from(form.cleaned_data.get("documents", [])),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "照会書兼回答書の回答を確認しました。")
            return redirect("applications:detail", application_id=application.pk)
    return render_card_service_detail(request, application, answer_form=form, status=400)


@require_POST
@resident_staff_required
def lock_release_done(request: StaffRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _lock_release(request, application_id)
    try:
        lock_release_complete(acting_user=request.user, application=application)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "暗証番号のロックを解除しました。")
    return redirect("applications:detail", application_id=application.pk)
