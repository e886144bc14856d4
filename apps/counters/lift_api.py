"""The lifting at the counter through the API (staff sessions): the same service as the
screen, with the id of this counter's card read (R-SUS-2)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.accounts.policy import IsResidentStaff
from apps.applications.api import ApplicationOut
from apps.applications.card_service_api import ApplicantIn
from apps.applications.card_service_views import procedure_card
from apps.applications.card_services import Applicant
from apps.applications.rules import ApplicantType, ApplicationKind
from apps.applications.selectors import application_get
from apps.applications.services import documents_from
from apps.core.api import ServiceErrorsMixin
from apps.counters.models import CardRead
from apps.counters.services import suspension_lift_at_counter
from apps.residents.selectors import resident_get


class LiftIn(ApplicantIn):
    read_id = serializers.UUIDField(help_text="The card read's read_id at this counter")


class SuspensionLiftView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=LiftIn,
        responses={201: ApplicationOut},
        summary="Lift a suspension after the card was read at this counter (R-SUS-2)",
    )
    def post(self, request: Request) -> Response:
        body = LiftIn(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(body.validated_data)
        user = request.user
        assert isinstance(user, User)  # noqa: S101 - the permission lets only staff in
        resident = resident_get(user=user, resident_id=data["resident_id"])
        card = procedure_card(resident=resident, kind=ApplicationKind.SUSPENSION_LIFT)
        read = (
            CardRead.objects.filter(read_id=data["read_id"], counter_id=user.counter_id).first()
            if user.counter_id is not None
            else None
        )
        if card is None or read is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["一時停止中のカードと、この窓口での読取が必要です。"]}
            )
        application = suspension_lift_at_counter(
            acting_user=user,
            card=card,
            read=read,
            applicant=Applicant(
                applicant_type=ApplicantType(data["applicant_type"]),
                applicant_name=data["applicant_name"],
                documents=documents_from(data["documents"]),
            ),
        )
        out = ApplicationOut(application_get(user=user, application_id=application.pk)).data
        return Response(out, status=status.HTTP_201_CREATED)
