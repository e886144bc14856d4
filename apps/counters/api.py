"""The reader agent's push API: enrollment, card reads, heartbeats.

Device keys authenticate only here (DeviceSignatureAuthentication is set on these three views
and nowhere else), and these views only accept POST: a device can push, never read back.
Nothing a device sends is echoed in an error message: a text read carries personal data.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, ParseError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.certificates.rules import PinKind
from apps.core.http import client_ip
from apps.counters import httpsig
from apps.counters.models import Device, ReaderStatus, ReadKind
from apps.counters.rules import MAX_SKEW_SECONDS, PinReading, ReadRejected, pin_readings
from apps.counters.services import (
    ENROLLMENT,
    AuthCertificateData,
    EnrollmentRefused,
    ReadData,
    TextData,
    card_read_ingest,
    device_actor,
    device_authenticate,
    device_enroll,
    device_heartbeat,
)
from apps.residents.rules import is_valid_my_number

# A read is a few hundred bytes; refuse anything far larger before reading or hashing it.
MAX_BODY_BYTES = 64 * 1024


def _raw_body(request: HttpRequest) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise ParseError("本文が大きすぎます。")
    return request.body


def _rejected(exc: httpsig.SignatureRejected) -> AuthenticationFailed:
    return AuthenticationFailed(detail={"detail": exc.message, "code": exc.code}, code=exc.code)


class DeviceSignatureAuthentication(BaseAuthentication):
    """RFC 9421 signature of an approved device; `request.auth` is the Device."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Device]:
        raw = request._request
        try:
            device = device_authenticate_request(raw)
        except httpsig.SignatureRejected as exc:
            raise _rejected(exc) from None
        return AnonymousUser(), device

    def authenticate_header(self, request: Request) -> str:
        return 'Signature realm="madoguchi-devices"'


def device_authenticate_request(raw: HttpRequest) -> Device:
    # request.path is what the agent signed as "@path" (the script prefix included).
    return device_authenticate(
        method=raw.method or "", path=raw.path, headers=raw.headers, body=_raw_body(raw)
    )


# drf-spectacular registers extensions in an untyped __init_subclass__.
class DeviceSignatureScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the schema describes device signatures (OpenAPI has no RFC 9421 scheme)."""

    target_class = "apps.counters.api.DeviceSignatureAuthentication"
    name = "deviceSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Signature",
            "description": (
                "RFC 9421 HTTP Message Signature by an approved device's Ed25519 key over"
                ' "@method" "@path" "content-digest" with created, nonce, keyid (the key'
                " fingerprint) and alg=ed25519; also sends Signature-Input and Content-Digest."
            ),
        }


class IsApprovedDevice(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Device)


class DeviceAPIView(APIView):
    authentication_classes = [DeviceSignatureAuthentication]
    permission_classes = [IsApprovedDevice]
    http_method_names = ["post", "options"]


# --- enrollment ---------------------------------------------------------------------------------


class EnrollIn(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100, trim_whitespace=True)
    public_key = serializers.CharField(max_length=64)
    fingerprint = serializers.RegexField(r"^SHA256:[A-Za-z0-9+/]{43}$", max_length=64)

    def validate_public_key(self, value: str) -> bytes:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("base64 で指定してください。") from None
        if len(raw) != 32:
            raise serializers.ValidationError("Ed25519 公開鍵は32バイトです。")
        return raw


class EnrollView(APIView):
    """POST /api/v1/devices/enroll: a counter PC asks to be trusted (pending until approved)."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    http_method_names = ["post", "options"]

    @extend_schema(
        request=EnrollIn,
        responses={
            201: inline_serializer(
                "EnrollOut",
                {"fingerprint": serializers.CharField(), "state": serializers.CharField()},
            )
        },
    )
    def post(self, request: Request) -> Response:
        raw = request._request
        body = _raw_body(raw)
        data = EnrollIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            device, created = device_enroll(
                acting_user=ENROLLMENT,
                name=data.validated_data["name"],
                public_key=data.validated_data["public_key"],
                fingerprint=data.validated_data["fingerprint"],
                signature_headers=raw.headers,
                method=raw.method or "POST",
                path=raw.path,
                body=body,
                ip_address=client_ip(raw),
            )
        except httpsig.SignatureRejected as exc:
            return Response({"detail": exc.message, "code": exc.code}, status=401)
        except EnrollmentRefused as exc:
            return Response({"detail": exc.message}, status=exc.status)
        return Response(
            {"fingerprint": device.fingerprint, "state": device.state},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- reads --------------------------------------------------------------------------------------


class AuthCertificateIn(serializers.Serializer[Any]):
    serial = serializers.RegexField(
        r"^-?[0-9a-f]{1,64}$",
        error_messages={"invalid": "serial は小文字の16進数 (区切りなし) で指定してください。"},
    )
    not_before = serializers.DateTimeField()
    not_after = serializers.DateTimeField()
    issuer = serializers.CharField(max_length=255, allow_blank=True)


class TextIn(serializers.Serializer[Any]):
    my_number = serializers.CharField(min_length=12, max_length=12, trim_whitespace=False)
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255)
    # The card's eight digits as YYYY-MM-DD. Not a date: a partly unknown birth date
    # (1950-00-00, some foreign residents) is printed that way and must still be compared.
    birth_date = serializers.RegexField(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        error_messages={"invalid": "birth_date は YYYY-MM-DD で指定してください。"},
    )
    # ISO 5218 as on the chip: 1 male, 2 female, 9 not applicable, 0 not known.
    sex = serializers.ChoiceField(
        choices=["0", "1", "2", "9"],
        error_messages={"invalid_choice": "0, 1, 2, 9 のいずれかです。"},
    )

    @sensitive_variables()
    def validate_my_number(self, value: str) -> str:
        # R-MYN-1. The message never repeats the number.
        if not is_valid_my_number(value):
            raise serializers.ValidationError(
                "個人番号の形式またはチェックデジットが正しくありません。"
            )
        return value


class ReadIn(serializers.Serializer[Any]):
    read_id = serializers.UUIDField()
    kind = serializers.ChoiceField(
        choices=[k.value for k in ReadKind],
        error_messages={"invalid_choice": "card か text を指定してください。"},
    )
    read_at = serializers.DateTimeField()
    reader_name = serializers.CharField(max_length=200, allow_blank=True)
    agent_version = serializers.CharField(max_length=32, allow_blank=True)
    auth_certificate = AuthCertificateIn(allow_null=True)
    pin_tries = serializers.DictField()
    pin_blocked = serializers.DictField()
    text = TextIn(allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs["kind"] == ReadKind.TEXT) != (attrs["text"] is not None):
            raise serializers.ValidationError("kind が text のときだけ text を送ってください。")
        if (attrs["read_at"] - timezone.now()).total_seconds() > MAX_SKEW_SECONDS:
            raise serializers.ValidationError({"read_at": "読取日時が未来です。"})
        try:
            attrs["pins"] = pin_readings(attrs["pin_tries"], attrs["pin_blocked"])
        except ReadRejected as exc:
            raise serializers.ValidationError({"pin_tries": str(exc)}) from None
        return attrs

    @sensitive_variables()
    def to_read_data(self) -> ReadData:
        v = self.validated_data
        cert = v["auth_certificate"]
        text = v["text"]
        pins: dict[PinKind, PinReading] = v["pins"]
        return ReadData(
            read_id=v["read_id"],
            kind=ReadKind(v["kind"]),
            read_at=v["read_at"],
            reader_name=v["reader_name"],
            agent_version=v["agent_version"],
            certificate=AuthCertificateData(**cert) if cert else None,
            pins=pins,
            text=TextData(**text) if text else None,
        )


class ReadsView(DeviceAPIView):
    """POST /api/v1/reads: one card read; 201 stored, 200 {"duplicate": true} already stored."""

    @extend_schema(
        request=ReadIn,
        responses={
            201: inline_serializer("ReadOut", {"read_id": serializers.UUIDField()}),
            200: inline_serializer("ReadDuplicate", {"duplicate": serializers.BooleanField()}),
        },
    )
    @method_decorator(sensitive_variables())
    def post(self, request: Request) -> Response:
        data = ReadIn(data=request.data)
        data.is_valid(raise_exception=True)
        assert isinstance(request.auth, Device)  # noqa: S101 - IsApprovedDevice
        try:
            read, created = card_read_ingest(
                acting_user=device_actor(request.auth),
                device=request.auth,
                data=data.to_read_data(),
            )
        except httpsig.SignatureRejected as exc:
            raise _rejected(exc) from None
        if not created:
            return Response({"duplicate": True}, status=status.HTTP_200_OK)
        return Response({"read_id": str(read.read_id)}, status=status.HTTP_201_CREATED)


class HeartbeatIn(serializers.Serializer[Any]):
    sent_at = serializers.DateTimeField()
    agent_version = serializers.CharField(max_length=32, allow_blank=True)
    reader_name = serializers.CharField(max_length=200, allow_null=True, allow_blank=True)
    reader_status = serializers.ChoiceField(
        choices=[s.value for s in ReaderStatus],
        error_messages={"invalid_choice": "ok, no_reader, pcscd_down のいずれかです。"},
    )


class HeartbeatsView(DeviceAPIView):
    """POST /api/v1/heartbeats: the agent is alive; 204."""

    @extend_schema(request=HeartbeatIn, responses={204: None})
    def post(self, request: Request) -> Response:
        data = HeartbeatIn(data=request.data)
        data.is_valid(raise_exception=True)
        assert isinstance(request.auth, Device)  # noqa: S101 - IsApprovedDevice
        device_heartbeat(
            acting_user=device_actor(request.auth),
            device=request.auth,
            agent_version=data.validated_data["agent_version"],
            reader_name=data.validated_data["reader_name"],
            reader_status=ReaderStatus(data.validated_data["reader_status"]),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
