"""The national call centre's suspension feed (R-SUS-1): POST /api/v1/suspensions.

The caller is a machine client with its own bearer token (SuspensionFeedClient), accepted
by this endpoint alone: no staff session, no device signature gets in, and the token opens
nothing else (no other view lists this authentication class).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cards.models import SuspensionFeedClient
from apps.cards.rules import FEED_RECORD_ID_MAX, SuspensionReason
from apps.cards.suspension_models import SUSPENSION_REASON_CHOICES
from apps.cards.suspensions import (
    FeedOutcome,
    FeedRecord,
    SuspensionConflict,
    feed_actor,
    suspension_feed_client_authenticate,
    suspension_record_receive,
)
from apps.core.api import api_validation_error


class SuspensionFeedAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` of an active feed client; ``request.auth`` is it."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, SuspensionFeedClient] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("認証情報が正しくありません。") from None
        client = suspension_feed_client_authenticate(token)
        if client is None:
            raise AuthenticationFailed("認証情報が正しくありません。")
        return AnonymousUser(), client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="madoguchi-suspension-feed"'


class SuspensionFeedScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apps.cards.api.SuspensionFeedAuthentication"
    name = "suspensionFeedToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}


class IsSuspensionFeedClient(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, SuspensionFeedClient)


class SuspensionIn(serializers.Serializer[Any]):
    record_id = serializers.CharField(max_length=FEED_RECORD_ID_MAX)
    resident_code = serializers.RegexField(r"^[0-9]{11}$", max_length=11)
    reported_at = serializers.DateTimeField()
    reason = serializers.ChoiceField(choices=SUSPENSION_REASON_CHOICES)


class SuspensionOut(serializers.Serializer[Any]):
    record_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=[(o.value, o.value) for o in FeedOutcome])
    card_suspended = serializers.BooleanField()


class SuspensionFeedView(APIView):
    """One call-centre record: 201 recorded, 200 the same record again (nothing changed),
    409 the record id already holds another record (refused, reported), 400 bad input."""

    authentication_classes = [SuspensionFeedAuthentication]
    permission_classes = [IsSuspensionFeedClient]
    http_method_names = ["post", "options"]

    @extend_schema(
        request=SuspensionIn,
        responses={201: SuspensionOut, 200: SuspensionOut},
        summary="A suspension from the national call centre (R-SUS-1), idempotent by record_id",
    )
    def post(self, request: Request) -> Response:
        body = SuspensionIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        client = request.auth
        assert isinstance(client, SuspensionFeedClient)  # noqa: S101 - the permission says so
        record = FeedRecord(
            record_id=data["record_id"],
            resident_code=data["resident_code"],
            reported_at=data["reported_at"],
            reason=SuspensionReason(data["reason"]),
        )
        try:
            report, outcome = suspension_record_receive(
                acting_user=feed_actor(client), record=record, source="api"
            )
        except SuspensionConflict as exc:
            return Response(
                {"record_id": record.record_id, "detail": exc.messages[0], "code": "conflict"},
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from None
        out = SuspensionOut(
            {
                "record_id": report.record_id,
                "outcome": outcome.value,
                "card_suspended": report.suspended_card,
            }
        ).data
        code = status.HTTP_201_CREATED if outcome is FeedOutcome.CREATED else status.HTTP_200_OK
        return Response(out, status=code)
