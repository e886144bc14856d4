"""Application endpoints for integrations: the same services and permissions as the screens.

Nested input/output serializers name every field that leaves; no My Number, no PIN, no
proxy's name leaves through here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import policy
from apps.accounts.models import User
from apps.accounts.policy import IsResidentStaff
from apps.applications.arrivals import (
    ArrivalFileError,
    arrival_import_submit,
    too_large_message,
)
from apps.applications.models import (
    APPLICANT_CHOICES,
    DOCUMENT_CHOICES,
    EXPRESS_REASON_CHOICES,
    KIND_CHOICES,
    NOTIFICATION_CARD_CHOICES,
    REASON_CHOICES,
    Application,
    ArrivalImport,
)
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ExpressReason,
    IdentityDocument,
    NotificationCardStatus,
)
from apps.applications.selectors import (
    application_get,
    arrival_import_get,
    uncollected_cards,
)
from apps.applications.services import (
    ApplicationInput,
    HandoverInput,
    application_cancel,
    application_hand_over,
    application_pay,
    application_payment_void,
    application_receive,
    application_waiver_approve,
    documents_from,
    fee_settled,
)
from apps.core.api import ServiceErrorsMixin
from apps.core.bounds import PlausibleDateInput
from apps.core.uploads import upload_too_large
from apps.fees.api import PaymentOut
from apps.fees.models import PaymentMethod
from apps.fees.rules import ReissueReason, VoidOutcome
from apps.fees.selectors import payment_get
from apps.residents.selectors import resident_get


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the permission classes let only staff in
    return user


# --- serializers --------------------------------------------------------------------------------


class ApplicationIn(serializers.Serializer[Any]):
    resident_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
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
    old_card_returned = serializers.BooleanField(default=True)
    reissue_reason = serializers.ChoiceField(
        choices=REASON_CHOICES, required=False, allow_null=True, default=None
    )
    lost_at_home = serializers.BooleanField(default=False)
    police_report_no = serializers.CharField(
        max_length=40, required=False, default="", allow_blank=True
    )
    disaster_certificate_no = serializers.CharField(
        max_length=60, required=False, default="", allow_blank=True
    )
    damaged_card_surrendered = serializers.BooleanField(default=False)
    with_certificates = serializers.BooleanField(default=True)
    waiver_reason = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True
    )
    former_surname_listed = serializers.BooleanField(default=False)
    # Issue 10: express issuance (R-EXP-1).
    express = serializers.BooleanField(default=False)
    express_reason = serializers.ChoiceField(
        choices=EXPRESS_REASON_CHOICES, required=False, allow_null=True, default=None
    )
    express_event_on = PlausibleDateInput(required=False, allow_null=True, default=None)


class ApplicationOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    state = serializers.CharField()
    resident_id = serializers.UUIDField()
    received_on = serializers.DateField()
    applicant_type = serializers.CharField()
    documents = serializers.ListField(child=serializers.CharField())
    reissue_reason = serializers.CharField()
    old_card_id = serializers.UUIDField(allow_null=True)
    old_card_returned = serializers.BooleanField()
    with_certificates = serializers.BooleanField()
    fee_row = serializers.CharField()
    fee_amount_yen = serializers.IntegerField()
    fee_rule = serializers.CharField()
    fee_settled = serializers.SerializerMethodField()
    waiver_pending = serializers.SerializerMethodField()
    payment = PaymentOut(allow_null=True)
    new_card_id = serializers.UUIDField(allow_null=True)
    new_card_state = serializers.CharField(source="new_card.state", allow_null=True, default=None)
    new_card_expires_on = serializers.DateField(
        source="new_card.expires_on", allow_null=True, default=None
    )
    handed_over_at = serializers.DateTimeField(allow_null=True)
    # Issue 10
    express = serializers.BooleanField()
    express_reason = serializers.CharField()
    posted_on = serializers.DateField(allow_null=True)
    delivered_on = serializers.DateField(allow_null=True)
    returned_undelivered_on = serializers.DateField(allow_null=True)

    def get_fee_settled(self, application: Application) -> bool:
        return fee_settled(application)

    def get_waiver_pending(self, application: Application) -> bool:
        return application.waiver_pending


class PayIn(serializers.Serializer[Any]):
    method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.CASH)


class PaymentVoidIn(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)
    outcome = serializers.ChoiceField(
        choices=[(outcome.value, outcome.label) for outcome in VoidOutcome],
        help_text="await_payment: the application waits for its fee again (a card being made "
        "is cancelled, an arrived card held); refund_cancel: refund and withdraw.",
    )


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "One value per payment the caller means to take (a UUID, up to 64 characters of "
        "A–Z a–z 0–9 - _ . :). A retry with the same key returns the first payment (200) "
        "instead of taking a second one."
    ),
)


class HandoverIn(serializers.Serializer[Any]):
    """The handover checklist. There is no PIN field, by design (R-PIN-3)."""

    applicant_type = serializers.ChoiceField(
        choices=APPLICANT_CHOICES, default=ApplicantType.HOLDER.value
    )
    documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DOCUMENT_CHOICES), max_length=len(DOCUMENT_CHOICES)
    )
    pins_set = serializers.BooleanField()
    legal_rep_present = serializers.BooleanField(default=False)
    notification_card = serializers.ChoiceField(
        choices=NOTIFICATION_CARD_CHOICES, required=False, allow_null=True, default=None
    )
    old_card_returned = serializers.BooleanField(default=False)
    reference_code = serializers.CharField(
        max_length=40, required=False, default="", allow_blank=True
    )
    extra_identity_check = serializers.BooleanField(default=False)
    second_document = serializers.ChoiceField(
        choices=DOCUMENT_CHOICES, required=False, allow_null=True, default=None
    )


class CancelIn(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200)


class ArrivalsIn(serializers.Serializer[Any]):
    file = serializers.FileField()


class ArrivalProblemOut(serializers.Serializer[Any]):
    line = serializers.IntegerField(allow_null=True, help_text="1 = the header line")
    message = serializers.CharField()


class ArrivalImportOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=ArrivalImport.State.choices)
    progress_percent = serializers.IntegerField()
    progress_phase = serializers.CharField()
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    imported_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    row_count = serializers.IntegerField()
    applied_count = serializers.IntegerField()
    already_count = serializers.IntegerField()
    problems = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    def get_problems(self, record: ArrivalImport) -> list[dict[str, Any]]:
        return [{"line": line, "message": text} for line, text in record.problems]

    def get_status_url(self, record: ArrivalImport) -> str:
        return reverse("applications-api:arrival", args=[record.pk])


class ArrivalErrorOut(serializers.Serializer[Any]):
    detail = serializers.CharField()
    problems = ArrivalProblemOut(many=True)


class WaitingCardOut(serializers.Serializer[Any]):
    card_id = serializers.UUIDField(source="card.id")
    resident_id = serializers.UUIDField(source="card.resident_id")
    application_id = serializers.UUIDField(source="application.id", allow_null=True, default=None)
    arrived_on = serializers.DateField(source="card.arrived_on")
    expires_on = serializers.DateField(source="card.expires_on")
    days = serializers.IntegerField()


class WaitingCardsOut(serializers.Serializer[Any]):
    results = WaitingCardOut(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="pass as ?after= for the next page; null on the last page"
    )


# --- views --------------------------------------------------------------------------------------


def _out(request: Request, application_id: uuid.UUID) -> dict[str, Any]:
    return dict(
        ApplicationOut(application_get(user=_user(request), application_id=application_id)).data
    )


class ApplicationCreateView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=ApplicationIn,
        responses={201: ApplicationOut},
        summary="Receive a first issue, renewal or reissue (R-ISS-1, R-REI)",
    )
    def post(self, request: Request) -> Response:
        body = ApplicationIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = _user(request)
        resident = resident_get(user=user, resident_id=data["resident_id"])
        application = application_receive(
            acting_user=user,
            resident=resident,
            data=ApplicationInput(
                kind=ApplicationKind(data["kind"]),
                applicant_type=ApplicantType(data["applicant_type"]),
                applicant_name=data["applicant_name"],
                documents=documents_from(data["documents"]),
                old_card_returned=data["old_card_returned"],
                reissue_reason=(
                    ReissueReason(data["reissue_reason"]) if data["reissue_reason"] else None
                ),
                lost_at_home=data["lost_at_home"],
                police_report_no=data["police_report_no"],
                disaster_certificate_no=data["disaster_certificate_no"],
                damaged_card_surrendered=data["damaged_card_surrendered"],
                with_certificates=data["with_certificates"],
                waiver_reason=data["waiver_reason"],
                former_surname_listed=data["former_surname_listed"],
                express=data["express"],
                express_reason=(
                    ExpressReason(data["express_reason"]) if data["express_reason"] else None
                ),
                express_event_on=data["express_event_on"],
            ),
        )
        return Response(_out(request, application.pk), status=status.HTTP_201_CREATED)


class ApplicationDetailView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(responses=ApplicationOut, summary="One application of the user's office")
    def get(self, request: Request, application_id: uuid.UUID) -> Response:
        return Response(_out(request, application_id))


class ApplicationPayView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=PayIn,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: PaymentOut, 200: PaymentOut},
        summary="Take the fee with a gapless receipt number; orders the card if it waited",
        description=(
            "201: the payment was taken. 200: this Idempotency-Key took it before; the same "
            "payment is returned and nothing new is recorded. 400: the fee is already paid "
            "(by another submission), or the key is missing."
        ),
    )
    def post(self, request: Request, application_id: uuid.UUID) -> Response:
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        body = PayIn(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise ValidationError(
                {
                    "idempotency_key": [
                        "Idempotency-Key ヘッダーに、領収ごとに一意の値を指定してください。"
                    ]
                }
            )
        taken = application_pay(
            acting_user=user,
            application=application,
            method=body.validated_data["method"],
            idempotency_key=key,
        )
        return Response(
            PaymentOut(taken.payment).data,
            status=status.HTTP_201_CREATED if taken.created else status.HTTP_200_OK,
        )


class PaymentVoidView(ServiceErrorsMixin):
    permission_classes = [policy.allow(policy.may_void_payments, policy.SUPERVISORS_ONLY)]

    @extend_schema(
        request=PaymentVoidIn,
        responses=PaymentOut,
        summary="Void a receipt and say what happens to its application (supervisor, R-REI-3)",
    )
    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        user = _user(request)
        payment = payment_get(user=user, payment_id=payment_id)
        body = PaymentVoidIn(data=request.data)
        body.is_valid(raise_exception=True)
        application_payment_void(
            acting_user=user,
            payment=payment,
            reason=body.validated_data["reason"],
            outcome=body.validated_data["outcome"],
        )
        return Response(PaymentOut(payment_get(user=user, payment_id=payment_id)).data)


class ApplicationWaiverApproveView(ServiceErrorsMixin):
    permission_classes = [policy.allow(policy.may_approve_waivers, policy.SUPERVISORS_ONLY)]

    @extend_schema(
        request=None,
        responses=ApplicationOut,
        summary="Approve a 'not due to the holder' waiver (supervisor, R-REI-3)",
    )
    def post(self, request: Request, application_id: uuid.UUID) -> Response:
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        application_waiver_approve(acting_user=user, application=application)
        return Response(_out(request, application_id))


class ApplicationHandOverView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        request=HandoverIn,
        responses=ApplicationOut,
        summary="Hand the card over after the checklist (R-ISS-2, R-ISS-3, R-REI-2)",
    )
    def post(self, request: Request, application_id: uuid.UUID) -> Response:
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        body = HandoverIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        application_hand_over(
            acting_user=user,
            application=application,
            data=HandoverInput(
                documents=documents_from(data["documents"]),
                applicant_type=ApplicantType(data["applicant_type"]),
                pins_set=data["pins_set"],
                legal_rep_present=data["legal_rep_present"],
                notification_card=(
                    NotificationCardStatus(data["notification_card"])
                    if data["notification_card"]
                    else None
                ),
                old_card_returned=data["old_card_returned"],
                reference_code=data["reference_code"],
                extra_identity_check=data["extra_identity_check"],
                second_document=(
                    IdentityDocument(data["second_document"]) if data["second_document"] else None
                ),
            ),
        )
        return Response(_out(request, application_id))


class ApplicationCancelView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(request=CancelIn, responses=ApplicationOut, summary="Withdraw an application")
    def post(self, request: Request, application_id: uuid.UUID) -> Response:
        user = _user(request)
        application = application_get(user=user, application_id=application_id)
        body = CancelIn(data=request.data)
        body.is_valid(raise_exception=True)
        application_cancel(
            acting_user=user, application=application, reason=body.validated_data["reason"]
        )
        return Response(_out(request, application_id))


class ArrivalsImportView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ArrivalsIn},
        responses={202: ArrivalImportOut, 200: ArrivalImportOut, 400: ArrivalErrorOut},
        summary="Upload a J-LIS arrivals CSV (layout: apps.applications.arrivals)",
        description=(
            "The file is checked at once (size, NUL bytes, encoding, header: 400 with the "
            "problem) and imported in the background: 202 with the import, whose status_url "
            "tells its state, progress, counts or the problems by line. 200 when this office "
            "uploaded these exact bytes before (nothing changed). All or nothing."
        ),
    )
    def post(self, request: Request) -> Response:
        data = request.data  # parsed here at the latest: the size limit applies while parsing
        if upload_too_large(request):
            return _file_refused([(None, too_large_message())])
        body = ArrivalsIn(data=data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        try:
            result = arrival_import_submit(
                acting_user=_user(request), content=upload.read(), filename=upload.name or ""
            )
        except ArrivalFileError as exc:
            return _file_refused(exc.problems)
        return Response(
            ArrivalImportOut(result.record).data,
            status=status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK,
        )


def _file_refused(problems: list[tuple[int | None, str]]) -> Response:
    error = ArrivalFileError(problems)
    return Response(
        {
            "detail": error.messages[0],
            "problems": [{"line": line, "message": text} for line, text in problems],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class ArrivalImportView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        responses=ArrivalImportOut,
        summary="One arrivals import of the user's office: state, progress, counts, problems",
    )
    def get(self, request: Request, import_id: uuid.UUID) -> Response:
        record = arrival_import_get(user=_user(request), import_id=import_id)
        return Response(ArrivalImportOut(record).data)


class UncollectedView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after", str, description="the `next` of the previous page (keyset cursor)"
            )
        ],
        responses=WaitingCardsOut,
        summary="Cards arrived but not collected, oldest first, 100 a page (R-ISS-1)",
    )
    def get(self, request: Request) -> Response:
        # Forward only: a client walks the stock with `next` until it is null.
        params = {"after": request.query_params["after"]} if "after" in request.query_params else {}
        waiting = uncollected_cards(user=_user(request), today=timezone.localdate(), params=params)
        return Response(
            WaitingCardsOut({"results": waiting.rows, "next": waiting.page.next_cursor}).data
        )
