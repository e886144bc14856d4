"""Where a member of staff lands after signing in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from apps.accounts import policy


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if policy.is_auditor(request.user):
        return redirect("audit:log")
    return redirect("residents:search")
