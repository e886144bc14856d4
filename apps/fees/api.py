"""Fee endpoints for integrations: the same services and permissions as the screens."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import policy
from apps.accounts.policy import IsResidentStaff
from apps.core.api import ServiceErrorsMixin
from apps.core.bounds import BoundedDictField, PlausibleDateInput, today
from apps.fees.models import DailyClose, Payment
from apps.fees.rules import (
    FIRST_FEE_DAY,
    MAX_COUNTED_CASH_YEN,
    MAX_FEE_YEN,
    FeeRow,
    Procedure,
    ReissueReason,
)
from apps.fees.selectors import (
    counters_for,
    daily_close_get,
    daily_closes_for,
    fee_schedules,
    payment_get,
)
from apps.fees.services import (
    daily_close_record,
    daily_close_reopen,
    fee_quote,
    fee_schedule_add,
    payment_is_settled,
)

# --- serializers --------------------------------------------------------------------------------


class FeeQuoteOut(serializers.Serializer[Any]):
    amount_yen = serializers.IntegerField()
    rule = serializers.CharField()
    row = serializers.CharField()
    row_label = serializers.CharField()
    schedule_starts_on = serializers.DateField()
    needs_approval = serializers.BooleanField()


class FeeQuoteQuery(serializers.Serializer[Any]):
    procedure = serializers.ChoiceField(choices=[p.value for p in Procedure])
    reason = serializers.ChoiceField(
        choices=[r.value for r in ReissueReason], required=False, allow_null=True, default=None
    )
    with_certificates = serializers.BooleanField(default=True)
    old_card_returned = serializers.BooleanField(default=True)
    express = serializers.BooleanField(default=False)  # R-EXP-2
    on = PlausibleDateInput(required=False, earliest=FIRST_FEE_DAY)


class PaymentOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    receipt_number = serializers.IntegerField()
    receipt_label = serializers.CharField()
    fiscal_year = serializers.IntegerField()
    office_code = serializers.CharField(source="office.code")
    counter_code = serializers.CharField(source="counter.code")
    fee_row = serializers.CharField()
    amount_yen = serializers.IntegerField()
    method = serializers.CharField()
    business_date = serializers.DateField()
    received_at = serializers.DateTimeField()
    voided = serializers.SerializerMethodField()

    def get_voided(self, payment: Payment) -> bool:
        return not payment_is_settled(payment)


class ScheduleOut(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="schedule.id")
    starts_on = serializers.DateField(source="schedule.starts_on")
    ends_on = serializers.DateField(allow_null=True)
    in_force = serializers.BooleanField()
    note = serializers.CharField(source="schedule.note")
    amounts = serializers.SerializerMethodField()

    def get_amounts(self, view: Any) -> dict[str, int]:
        return {row.value: amount for row, amount in view.amounts}


class ScheduleIn(serializers.Serializer[Any]):
    starts_on = PlausibleDateInput(earliest=today)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    amounts = BoundedDictField(
        max_items=len(FeeRow),
        child=serializers.IntegerField(min_value=0, max_value=MAX_FEE_YEN),
    )

    def validate_amounts(self, value: dict[str, int]) -> dict[FeeRow, int]:
        try:
            return {FeeRow(key): amount for key, amount in value.items()}
        except ValueError:
            raise ValidationError("区分の指定が正しくありません。") from None


class DailyCloseIn(serializers.Serializer[Any]):
    counter_id = serializers.UUIDField()
    # The service narrows this to the correction window with its own message.
    business_date = PlausibleDateInput(earliest=FIRST_FEE_DAY, latest=today)
    counted_cash_yen = serializers.IntegerField(min_value=0, max_value=MAX_COUNTED_CASH_YEN)
    note = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True)


class ReopenIn(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class DailyCloseOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    counter_code = serializers.CharField(source="counter.code")
    business_date = serializers.DateField()
    expected_cash_yen = serializers.IntegerField()
    counted_cash_yen = serializers.IntegerField()
    difference_yen = serializers.IntegerField()
    has_difference = serializers.BooleanField()
    cashless_total_yen = serializers.IntegerField()
    payments_count = serializers.IntegerField()
    voided_count = serializers.IntegerField()
    voided_total_yen = serializers.IntegerField()
    reopened_at = serializers.DateTimeField(allow_null=True)
    reopen_reason = serializers.CharField()
    lines = serializers.SerializerMethodField()

    def get_lines(self, close: DailyClose) -> list[dict[str, Any]]:
        return [
            {"fee_row": line.fee_row, "count": line.count, "total_yen": line.total_yen}
            for line in close.lines.all()
        ]


# --- views --------------------------------------------------------------------------------------


class FeeQuoteView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(
        parameters=[FeeQuoteQuery],
        responses=FeeQuoteOut,
        summary="What a procedure costs on a day (R-REI table, R-REI-3)",
    )
    def get(self, request: Request) -> Response:
        query = FeeQuoteQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        quote = fee_quote(
            procedure=Procedure(data["procedure"]),
            reason=ReissueReason(data["reason"]) if data.get("reason") else None,
            with_certificates=data["with_certificates"],
            old_card_returned=data["old_card_returned"],
            on=data.get("on") or timezone.localdate(),
            express=data["express"],
        )
        return Response(
            FeeQuoteOut(
                {
                    "amount_yen": quote.amount_yen,
                    "rule": quote.rule,
                    "row": quote.row.value,
                    "row_label": quote.row.label,
                    "schedule_starts_on": quote.schedule_starts_on,
                    "needs_approval": quote.needs_approval,
                }
            ).data
        )


class FeeScheduleView(ServiceErrorsMixin):
    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [policy.allow(policy.may_manage_fee_schedules, policy.SUPERVISORS_ONLY)()]
        return [IsResidentStaff()]

    @extend_schema(responses=ScheduleOut(many=True), summary="Fee schedules, newest first")
    def get(self, request: Request) -> Response:
        views = fee_schedules(today=timezone.localdate())
        return Response(ScheduleOut(views, many=True).data)

    @extend_schema(
        request=ScheduleIn,
        responses={201: ScheduleOut},
        summary="Add a schedule from a future date (supervisor, R-REI-3)",
    )
    def post(self, request: Request) -> Response:
        body = ScheduleIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        schedule = fee_schedule_add(
            acting_user=request.user,  # type: ignore[arg-type]
            starts_on=data["starts_on"],
            amounts=data["amounts"],
            note=data["note"],
        )
        view = next(
            v for v in fee_schedules(today=timezone.localdate()) if v.schedule.pk == schedule.pk
        )
        return Response(ScheduleOut(view).data, status=status.HTTP_201_CREATED)


class PaymentDetailView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(responses=PaymentOut, summary="One payment of the user's office")
    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        payment = payment_get(user=request.user, payment_id=payment_id)  # type: ignore[arg-type]
        return Response(PaymentOut(payment).data)


class DailyCloseView(ServiceErrorsMixin):
    permission_classes = [IsResidentStaff]

    @extend_schema(responses=DailyCloseOut(many=True), summary="Recent daily closes of the office")
    def get(self, request: Request) -> Response:
        closes = daily_closes_for(request.user).prefetch_related("lines")[:100]  # type: ignore[arg-type]
        return Response(DailyCloseOut(closes, many=True).data)

    @extend_schema(
        request=DailyCloseIn, responses={201: DailyCloseOut}, summary="Close a counter's day"
    )
    def post(self, request: Request) -> Response:
        body = DailyCloseIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        counter = counters_for(request.user).filter(pk=data["counter_id"]).first()  # type: ignore[arg-type]
        if counter is None:
            raise ValidationError({"counter_id": "窓口が見つかりません。"})
        closed = daily_close_record(
            acting_user=request.user,  # type: ignore[arg-type]
            counter=counter,
            business_date=data["business_date"],
            counted_cash_yen=data["counted_cash_yen"],
            note=data["note"],
        )
        return Response(DailyCloseOut(closed).data, status=status.HTTP_201_CREATED)


class DailyCloseReopenView(ServiceErrorsMixin):
    permission_classes = [policy.allow(policy.may_reopen_closes, policy.SUPERVISORS_ONLY)]

    @extend_schema(
        request=ReopenIn,
        responses=DailyCloseOut,
        summary="Reopen a counter's close with a reason, so a correction can be made (supervisor)",
    )
    def post(self, request: Request, close_id: uuid.UUID) -> Response:
        closed = daily_close_get(user=request.user, close_id=close_id)  # type: ignore[arg-type]
        body = ReopenIn(data=request.data)
        body.is_valid(raise_exception=True)
        closed = daily_close_reopen(
            acting_user=request.user,  # type: ignore[arg-type]
            close=closed,
            reason=body.validated_data["reason"],
        )
        return Response(DailyCloseOut(closed).data)


__all__ = [
    "DailyCloseReopenView",
    "DailyCloseView",
    "FeeQuoteView",
    "FeeScheduleView",
    "PaymentDetailView",
]
