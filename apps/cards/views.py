"""The supervisors' page for the call centre's CSV files of suspensions (R-SUS-1)."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.policy import StaffRequest, supervisor_required
from apps.cards.models import SuspensionImport
from apps.cards.suspensions import FEED_HEADER, suspension_import_submit
from apps.core.http import apply_errors
from apps.core.uploads import upload_too_large


class SuspensionFileForm(forms.Form):
    file = forms.FileField(label="一時停止データ（CSV）")


@require_http_methods(["GET", "POST"])
@supervisor_required
def suspension_imports(request: StaffRequest) -> HttpResponse:
    """Upload a call-centre CSV: the header is checked at once, the records imported by a
    worker; the same file again records nothing twice."""
    form = SuspensionFileForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if upload_too_large(request):
            form.is_valid()
            form.errors["file"] = form.error_class(["ファイルが大きすぎます。"])
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = suspension_import_submit(
                    acting_user=request.user, filename=upload.name or "", content=upload.read()
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect("cards:suspension_import", import_id=record.pk)
    imports = SuspensionImport.objects.select_related("uploaded_by").defer("content")[:50]
    return render(
        request,
        "cards/suspension_imports.html",
        {"form": form, "imports": imports, "header": ",".join(FEED_HEADER)},
        status=status,
    )


@require_http_methods(["GET"])
@supervisor_required
def suspension_import(request: StaffRequest, import_id: uuid.UUID) -> HttpResponse:
    record = (
        SuspensionImport.objects.select_related("uploaded_by")
        .defer("content")
        .filter(pk=import_id)
        .first()
    )
    if record is None:
        raise Http404
    return render(request, "cards/suspension_import.html", {"record": record})
