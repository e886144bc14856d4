"""The API of the procedures on a card in use (staff sessions, as the rest of
/api/applications/). Each view parses, calls the same service as the screen, answers with
the application. No PIN field anywhere (R-PIN-3)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.policy import IsResidentStaff
from apps.applications.api import ApplicationOut, _out, _user
from apps.applications.card_service_models import (
    CERTIFICATE_ACTION_CHOICES,
    RETURN_REASON_CHOICES,
)
from apps.applications.card_service_views import procedure_card
from apps.applications.card_services import (
    Applicant,
    CertificateInput,
    LockReleaseInput,
    ReturnInput,
    card_return,
    certificate_procedure,
    lock_release_answer_record,
    lock_release_complete,
    lock_release_receive,
)
from apps.applications.models import APPLICANT_CHOICES, DOCUMENT_CHOICES
from apps.applications.rules import ApplicantType, ApplicationKind, ReturnReason
from apps.applications.selectors import application_get
from apps.applications.services import documents_from
from apps.cards.models import Card
from apps.certificates.models import CERTIFICATE_KIND_CHOICES, PIN_KIND_CHOICES
from apps.certificates.rules import CertificateAction, CertificateKind, PinKind
from apps.core.api import ServiceErrorsMixin
from apps.residents.selectors import resident_get


class ApplicantIn(serializers.Serializer[Any]):
    resident_id = serializers.UUIDField()
    applicant_type = serializers.ChoiceField(
        choices=APPLICANT_CHOICES, default=ApplicantType.HOLDER.value
    )
    applicant_name = serializers.CharField(
        max_length=120, required=False, default="", allow_blank=True
    )
    documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DOCUMENT_CHOICES),
        default=list,
        max_length=len(DOCUMENT_CHOICES),
    )


class CertificateIn(ApplicantIn):
    action = serializers.ChoiceField(choices=CERTIFICATE_ACTION_CHOICES)
    kind = serializers.ChoiceField(choices=CERTIFICATE_KIND_CHOICES)
    serial = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    legal_rep_requests = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class LockReleaseIn(ApplicantIn):
    pins = serializers.ListField(
        child=serializers.ChoiceField(choices=PIN_KIND_CHOICES), max_length=len(PIN_KIND_CHOICES)
    )
    card_presented = serializers.BooleanField()


class ReturnIn(ApplicantIn):
    reason = serializers.ChoiceField(choices=RETURN_REASON_CHOICES)
    note = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class AnswerIn(serializers.Serializer[Any]):
    letter_code = serializers.CharField(max_length=20)
    documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DOCUMENT_CHOICES), max_length=len(DOCUMENT_CHOICES)
    )


def _parsed(
    request: Request, serializer: type[ApplicantIn], kind: ApplicationKind
) -> tuple[dict[str, Any], Applicant, Card]:
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    resident = resident_get(user=_user(request), resident_id=data["resident_id"])
    card = procedure_card(resident=resident, kind=kind)
    if card is None:
        raise Http404
    applicant = Applicant(
        applicant_type=ApplicantType(data["applicant_type"]),
        applicant_name=data["applicant_name"],
        documents=documents_from(data["documents"]),
    )
    return data, applicant, card


def _created(request: Request, application_id: uuid.UUID) -> Response:
    return Response(_out(request, application_id), status=status.HTTP_201_CREATED)


class CertificateProcedureView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=CertificateIn,
        responses={201: ApplicationOut},
        summary="Issue, add, renew or revoke an e-certificate (R-CRT-1…5)",
    )
    def post(self, request: Request) -> Response:
        data, applicant, card = _parsed(request, CertificateIn, ApplicationKind.CERTIFICATE)
        application = certificate_procedure(
            acting_user=_user(request),
            card=card,
            data=CertificateInput(
                action=CertificateAction(data["action"]),
                kind=CertificateKind(data["kind"]),
                applicant=applicant,
                serial=data["serial"],
                legal_rep_requests=data["legal_rep_requests"],
                reason=data["reason"],
            ),
        )
        return _created(request, application.pk)


class LockReleaseView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=LockReleaseIn,
        responses={201: ApplicationOut},
        summary="Receive a lock release / PIN reset (R-PIN-1); a proxy's waits for the answer",
    )
    def post(self, request: Request) -> Response:
        data, applicant, card = _parsed(request, LockReleaseIn, ApplicationKind.LOCK_RELEASE)
        application = lock_release_receive(
            acting_user=_user(request),
            card=card,
            data=LockReleaseInput(
                applicant=applicant,
                pins=frozenset(PinKind(value) for value in data["pins"]),
                card_presented=data["card_presented"],
            ),
        )
        return _created(request, application.pk)


class LockReleaseAnswerView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=AnswerIn,
        responses={200: ApplicationOut},
        summary="The proxy's second visit: the inquiry letter's code (R-PIN-1)",
    )
    def post(self, request: Request, application_id: uuid.UUID) -> Response:
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        body = AnswerIn(data=request.data)
        body.is_valid(raise_exception=True)
        lock_release_answer_record(
            acting_user=user,
            application=application,
            letter_code=body.validated_data["letter_code"],
            documents=documents_from(body.validated_data["documents"]),
        )
        return Response(_out(request, application_id))


class LockReleaseCompleteView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=None,
        responses={200: ApplicationOut},
        summary="Release the locks once the answer is back (R-PIN-1)",
    )
    def post(self, request: Request, application_id: uuid.UUID) -> Response:
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        lock_release_complete(acting_user=user, application=application)
        return Response(_out(request, application_id))


class CardReturnView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=ReturnIn,
        responses={201: ApplicationOut},
        summary="Return or cancel a card; its certificates end with it (R-CRT-5)",
    )
    def post(self, request: Request) -> Response:
        data, applicant, card = _parsed(request, ReturnIn, ApplicationKind.CARD_RETURN)
        application = card_return(
            acting_user=_user(request),
            card=card,
            data=ReturnInput(
                reason=ReturnReason(data["reason"]), applicant=applicant, note=data["note"]
            ),
        )
        return _created(request, application.pk)
