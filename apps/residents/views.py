from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import mfa
from apps.accounts.policy import StaffRequest, resident_staff_required
from apps.core.http import client_ip
from apps.residents.forms import KanaSearchForm, MyNumberSearchForm, RevealForm
from apps.residents.models import Resident
from apps.residents.selectors import resident_get
from apps.residents.services import (
    resident_find_by_my_number_logged,
    resident_reveal_my_number,
    resident_search_logged,
    resident_view_logged,
)


@sensitive_post_parameters("n-my_number")
@require_http_methods(["GET", "POST"])
@resident_staff_required
@sensitive_variables("number_form", "found")  # innermost: it guards this function's frame
def search(request: StaffRequest) -> HttpResponse:
    """Search by kana + date of birth, or by My Number. Both are POSTs: names and numbers
    are personal data and stay out of URLs, browser history and server logs."""
    kana_form = KanaSearchForm(prefix="k")
    number_form = MyNumberSearchForm(prefix="n")
    results: list[Resident] | None = None
    more = False
    if request.method == "POST" and "n-my_number" in request.POST:
        number_form = MyNumberSearchForm(request.POST, prefix="n")
        if number_form.is_valid():
            found = resident_find_by_my_number_logged(
                acting_user=request.user,
                my_number=number_form.cleaned_data["my_number"],
                purpose=number_form.cleaned_data["purpose"],
                ip_address=client_ip(request),
            )
            if found:
                return redirect("residents:detail", resident_id=found.pk)
            results = []
    elif request.method == "POST":
        kana_form = KanaSearchForm(request.POST, prefix="k")
        if kana_form.is_valid():
            search_result = resident_search_logged(
                acting_user=request.user,
                kana=kana_form.cleaned_data["kana"],
                birth_date=kana_form.cleaned_data["birth_date"],
                ip_address=client_ip(request),
            )
            results, more = search_result.residents, search_result.more
    narrow_by_birth_date = more and not kana_form.cleaned_data.get("birth_date")
    if narrow_by_birth_date:
        kana_form.ask_for_birth_date()
    return render(
        request,
        "residents/search.html",
        {
            "kana_form": kana_form,
            "number_form": number_form,
            "results": results,
            "more": more,
            "narrow_by_birth_date": narrow_by_birth_date,
        },
    )


@require_http_methods(["GET"])
@resident_staff_required
def detail(request: StaffRequest, resident_id: uuid.UUID) -> HttpResponse:
    resident = resident_view_logged(
        acting_user=request.user, resident_id=resident_id, ip_address=client_ip(request)
    )
    today = timezone.localdate()
    return render(
        request,
        "residents/detail.html",
        {
            "resident": resident,
            "today": today,
            "age": resident.age_on(today),
            "reveal_form": RevealForm(),
        },
    )


@require_POST
@resident_staff_required
@sensitive_variables("reveal")
def reveal(request: StaffRequest, resident_id: uuid.UUID) -> HttpResponse:
    resident = resident_get(user=request.user, resident_id=resident_id)
    form = RevealForm(request.POST)
    reveal = None
    if form.is_valid():
        reveal = resident_reveal_my_number(
            acting_user=request.user,
            resident=resident,
            purpose=form.cleaned_data["purpose"],
            authenticated_seconds_ago=mfa.seconds_since_authentication(request),
            ip_address=client_ip(request),
        )
    back = urlencode({"next": reverse("residents:detail", args=[resident.pk])})
    response = render(
        request,
        "residents/_my_number.html",
        {
            "resident": resident,
            "reveal_form": form,
            "my_number": reveal.my_number if reveal else None,
            "refusal": reveal.refusal if reveal else None,
            "reauthenticate_url": f"{reverse('account_reauthenticate')}?{back}",
            "reveal_seconds": settings.MY_NUMBER_REVEAL_SECONDS,
        },
    )
    # A revealed number must not linger in a cache or the back/forward history.
    response["Cache-Control"] = "no-store"
    return response
