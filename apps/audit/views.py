from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts.policy import StaffRequest, audit_staff_required
from apps.audit.forms import LogFilterForm
from apps.audit.selectors import access_logs_for


@require_GET
@audit_staff_required
def log(request: StaffRequest) -> HttpResponse:
    """Who looked at whose data, when and why. Filters are not personal data, so GET is fine."""
    form = LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    logs = access_logs_for(
        request.user,
        action=filters.get("action", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = Paginator(logs, 100).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"form": form, "page": page})
