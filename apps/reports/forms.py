"""The reports' filters (period and office) and the J-LIS list upload (R-NOT-4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Office
from apps.core.bounds import PlausibleDateField
from apps.reports.rules import MAX_PERIOD_DAYS, Period

_DATE = forms.DateInput(attrs={"type": "date"})


class ReportFilterForm(forms.Form):
    """Period (both days included) and office; a supervisor's only office is their own."""

    date_from = PlausibleDateField(label="開始日", required=False, widget=_DATE)
    date_to = PlausibleDateField(label="終了日", required=False, widget=_DATE)
    office = forms.ModelChoiceField(
        label="庁舎", queryset=Office.objects.none(), required=False, empty_label="全庁"
    )

    def __init__(self, *args: Any, offices: QuerySet[Office], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise forms.ValidationError("開始日は終了日より前にしてください。")
            if (end - start).days + 1 > MAX_PERIOD_DAYS:
                raise forms.ValidationError(f"期間は{MAX_PERIOD_DAYS}日以内にしてください。")
        return data

    def period(self, *, default: Period) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        start: date = data.get("date_from") or default.start
        end: date = data.get("date_to") or max(default.end, start)
        if end < start or (end - start).days + 1 > MAX_PERIOD_DAYS:
            return default
        return Period(start, end)

    def office_id(self) -> Any:
        office = self.cleaned_data.get("office") if self.is_valid() else None
        return office.pk if office is not None else None


class PostedNoticesForm(forms.Form):
    # J-LIS's notices began with the cards (2016); a month ahead of today is a typing slip.
    month = PlausibleDateField(
        earliest=date(2016, 1, 1),
        latest=lambda: timezone.localdate().replace(day=28) + timedelta(days=4),
        label="対象月",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": "対象月は YYYY-MM の形で入力してください。"},
    )
    file = forms.FileField(label="J-LISの発送リスト(CSV)")

    def clean_month(self) -> date:
        month: date = self.cleaned_data["month"]
        return month.replace(day=1)
