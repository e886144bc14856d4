"""Where a member of staff lands after signing in: each role on its own home.

A clerk starts at the resident search, a supervisor at what waits for them (the reports'
home, apps.reports: the one supervisor home), the auditor at
the access log, the administrator at staff and devices. (The auditor and the admin used to
land on a bare 403 right after signing in.)
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.accounts import policy
from apps.accounts.policy import StaffRequest, admin_required
from apps.home.selectors import admin_overview


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if policy.is_supervisor(user):
        return redirect("reports:home")
    if policy.works_with_residents(user):
        return redirect("residents:search")
    if policy.is_auditor(user):
        return redirect("audit:log")
    if policy.is_admin(user):
        return redirect("home:admin")
    # A signed-in account with no role here (inactive, or a role that sees nothing yet).
    return render(request, "home/no_role.html", status=403)


@require_GET
@admin_required
def admin(request: StaffRequest) -> HttpResponse:
    return render(request, "home/admin.html", {"overview": admin_overview()})
