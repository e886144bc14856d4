from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from apps.accounts.roles import Role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.role == Role.AUDITOR:  # type: ignore[union-attr]
        return redirect("audit:log")
    return redirect("residents:search")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
