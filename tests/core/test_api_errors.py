"""apps.core.api.ServiceErrorsMixin: a service's refusal reaches an API client as the screens
show it, without a try block in every view."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from apps.core.api import ServiceErrorsMixin


class _View(ServiceErrorsMixin):
    authentication_classes = []
    permission_classes = [AllowAny]
    error: Exception | None = None

    def get(self, request: Request) -> Response:
        if self.error is not None:
            raise self.error
        return Response({"ok": True})


def _get(error: Exception | None) -> Response:
    view = _View.as_view(error=error)
    response: Response = view(APIRequestFactory().get("/"))
    return response


def test_a_field_error_answers_400_on_its_field() -> None:
    response = _get(ValidationError({"reason": "取消の理由を入力してください。"}))
    assert response.status_code == 400
    assert response.data == {"reason": ["取消の理由を入力してください。"]}


def test_a_plain_error_answers_400_under_non_field_errors() -> None:
    response = _get(ValidationError("この申請は手続が終了しています。"))
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["この申請は手続が終了しています。"]}


def test_a_refusal_is_403_and_success_untouched() -> None:
    assert _get(PermissionDenied("この操作を行う権限がありません。")).status_code == 403
    assert _get(None).data == {"ok": True}
