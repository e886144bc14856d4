"""API endpoints for the card changes and express posting (issue 10): the same
services and permissions as the screens. No My Number and no PIN leaves or enters here."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.policy import IsResidentStaff
from apps.applications.api import ApplicationOut, _out, _user
from apps.applications.models import APPLICANT_CHOICES, DOCUMENT_CHOICES
from apps.applications.rules import CHANGE_KIND_SLUGS, ApplicantType, ApplicationKind
from apps.applications.selectors import application_get
from apps.applications.selectors_changes import continued_use_due_for
from apps.applications.services import documents_from
from apps.applications.services_changes import (
    AddressChangeInput,
    Applicant,
    ContinuedUseInput,
    ExpiryChangeInput,
    FormerSurnameInput,
    NameChangeInput,
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
from apps.cards.rules import CardState
from apps.core.api import ServiceErrorsMixin
from apps.core.bounds import PlausibleDateInput
from apps.residents.selectors import resident_get

_CHANGE_KINDS = sorted(kind.value for kind in CHANGE_KIND_SLUGS.values())


class ChangeIn(serializers.Serializer[Any]):
    """One card change; the fields its kind needs (the service names what is missing)."""

    resident_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=_CHANGE_KINDS)
    applicant_type = serializers.ChoiceField(
        choices=APPLICANT_CHOICES, default=ApplicantType.HOLDER.value
    )
    applicant_name = serializers.CharField(max_length=120, default="", allow_blank=True)
    documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DOCUMENT_CHOICES),
        default=list,
        max_length=len(DOCUMENT_CHOICES),
    )
    address = serializers.CharField(max_length=255, default="", allow_blank=True)
    postal_code = serializers.CharField(max_length=8, default="", allow_blank=True)
    family_name = serializers.CharField(max_length=60, default="", allow_blank=True)
    given_name = serializers.CharField(max_length=60, default="", allow_blank=True)
    family_name_kana = serializers.CharField(max_length=120, default="", allow_blank=True)
    given_name_kana = serializers.CharField(max_length=120, default="", allow_blank=True)
    former_surname = serializers.CharField(max_length=60, default="", allow_blank=True)
    former_surname_kana = serializers.CharField(max_length=120, default="", allow_blank=True)
    planned_move_out_on = PlausibleDateInput(required=False, allow_null=True, default=None)
    moved_in_on = PlausibleDateInput(required=False, allow_null=True, default=None)
    move_in_notice_on = PlausibleDateInput(required=False, allow_null=True, default=None)
    register_now = serializers.BooleanField(default=True)
    new_period_ends_on = PlausibleDateInput(required=False, allow_null=True, default=None)
    proof = serializers.CharField(max_length=200, default="", allow_blank=True)
    application_pending = serializers.BooleanField(default=False)


class ChangeOut(ApplicationOut):
    endorsement_text = serializers.CharField(
        source="endorsement.text", allow_null=True, default=None
    )
    card_voided = serializers.SerializerMethodField()

    def get_card_voided(self, application: Any) -> bool:
        card = application.old_card
        return card is not None and card.state == CardState.VOID


class ChangeCreateView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=ChangeIn,
        responses={201: ChangeOut},
        summary="A change on the card in use (R-CHG-1…4, R-VAL-7); SIGNING revoked (R-CRT-4)",
    )
    def post(self, request: Request) -> Response:
        body = ChangeIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = _user(request)
        resident = resident_get(user=user, resident_id=data["resident_id"])
        kind = ApplicationKind(data["kind"])
        applicant = Applicant(
            applicant_type=ApplicantType(data["applicant_type"]),
            applicant_name=data["applicant_name"],
            documents=documents_from(data["documents"]),
        )
        if kind is ApplicationKind.ADDRESS_CHANGE:
            application = address_change_receive(
                acting_user=user,
                resident=resident,
                data=AddressChangeInput(
                    applicant=applicant, address=data["address"], postal_code=data["postal_code"]
                ),
            )
        elif kind is ApplicationKind.NAME_CHANGE:
            application = name_change_receive(
                acting_user=user,
                resident=resident,
                data=NameChangeInput(
                    applicant=applicant,
                    family_name=data["family_name"],
                    given_name=data["given_name"],
                    family_name_kana=data["family_name_kana"],
                    given_name_kana=data["given_name_kana"],
                ),
            )
        elif kind is ApplicationKind.FORMER_SURNAME:
            application = former_surname_receive(
                acting_user=user,
                resident=resident,
                data=FormerSurnameInput(
                    applicant=applicant,
                    former_surname=data["former_surname"],
                    former_surname_kana=data["former_surname_kana"],
                ),
            )
        elif kind is ApplicationKind.CONTINUED_USE:
            application = continued_use_receive(
                acting_user=user,
                resident=resident,
                data=ContinuedUseInput(
                    applicant=applicant,
                    planned_move_out_on=data["planned_move_out_on"],
                    moved_in_on=data["moved_in_on"],
                    move_in_notice_on=data["move_in_notice_on"],
                    address=data["address"],
                    postal_code=data["postal_code"],
                    register_now=data["register_now"],
                ),
            ).application
        else:
            if data["new_period_ends_on"] is None:
                raise serializers.ValidationError(
                    {"new_period_ends_on": "新しい満了日を入力してください。"}
                )
            application = expiry_change_receive(
                acting_user=user,
                resident=resident,
                data=ExpiryChangeInput(
                    applicant=applicant,
                    new_period_ends_on=data["new_period_ends_on"],
                    proof=data["proof"],
                    application_pending=data["application_pending"],
                ),
                special=kind is ApplicationKind.SPECIAL_EXTENSION,
            )
        out = ChangeOut(application_get(user=user, application_id=application.pk)).data
        return Response(dict(out), status=status.HTTP_201_CREATED)


class ContinuedUseDueOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    card_id = serializers.UUIDField()
    resident_id = serializers.UUIDField(source="card.resident_id")
    moved_in_on = serializers.DateField()
    move_in_notice_on = serializers.DateField()
    register_by = serializers.DateField()


class ContinuedUseDueView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        responses=ContinuedUseDueOut(many=True),
        summary="Cards to register for continued use in the next 14 days (R-CHG-4)",
    )
    def get(self, request: Request) -> Response:
        rows = continued_use_due_for(user=_user(request), today=timezone.localdate())
        return Response(ContinuedUseDueOut(rows, many=True).data)


class ExpressStepIn(serializers.Serializer[Any]):
    on = PlausibleDateInput()
    issued_on = PlausibleDateInput(required=False, allow_null=True, default=None)


class ExpressStepView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=ExpressStepIn,
        responses=ApplicationOut,
        summary="An express card posted, delivered or returned undelivered (R-EXP-3)",
    )
    def post(self, request: Request, application_id: uuid.UUID, step: str) -> Response:
        if step not in ("posted", "delivered", "returned"):
            raise Http404
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        body = ExpressStepIn(data=request.data)
        body.is_valid(raise_exception=True)
        on = body.validated_data["on"]
        if step == "posted":
            issued = body.validated_data["issued_on"]
            if issued is None:
                raise serializers.ValidationError(
                    {"issued_on": "J-LISの発行日を入力してください。"}
                )
            application_express_posted(
                acting_user=user, application=application, issued_on=issued, posted_on=on
            )
        elif step == "delivered":
            application_express_delivered(
                acting_user=user, application=application, delivered_on=on
            )
        else:
            application_express_returned(acting_user=user, application=application, returned_on=on)
        return Response(_out(request, application.pk))
