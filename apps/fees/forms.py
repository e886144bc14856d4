from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from apps.accounts.models import Counter
from apps.core.bounds import PlausibleDateField, today
from apps.fees.models import PROCEDURE_CHOICES, REISSUE_REASON_CHOICES
from apps.fees.rules import (
    FIRST_FEE_DAY,
    MAX_COUNTED_CASH_YEN,
    MAX_FEE_YEN,
    FeeRow,
    business_date_problem,
)


class ScheduleForm(forms.Form):
    """A new fee schedule: its start date and one amount per R-REI row."""

    starts_on = PlausibleDateField(
        label="適用開始日",
        earliest=today,
        widget=forms.DateInput(attrs={"type": "date", "autofocus": True}),
    )
    note = forms.CharField(label="備考（改定の根拠など）", max_length=200, required=False)

    def __init__(self, *args: Any, initial_amounts: dict[FeeRow, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in FeeRow:
            self.fields[row.value] = forms.IntegerField(
                label=row.label,
                min_value=0,
                max_value=MAX_FEE_YEN,
                initial=initial_amounts.get(row, 0),
            )

    def amounts(self) -> dict[FeeRow, int]:
        return {row: self.cleaned_data[row.value] for row in FeeRow}

    def amount_fields(self) -> list[forms.BoundField]:
        return [self[row.value] for row in FeeRow]


class QuoteForm(forms.Form):
    """The fee preview on the application form (no personal data: safe in a GET)."""

    procedure = forms.ChoiceField(choices=PROCEDURE_CHOICES)
    reissue_reason = forms.ChoiceField(choices=[("", "—"), *REISSUE_REASON_CHOICES], required=False)
    with_certificates = forms.BooleanField(required=False)
    old_card_lost = forms.BooleanField(required=False)
    express = forms.BooleanField(required=False)  # R-EXP-2


class CloseChoiceForm(forms.Form):
    """Which counter and day the close page shows (and the close form then closes)."""

    counter = forms.ModelChoiceField(
        label="窓口", queryset=Counter.objects.none(), empty_label=None, required=False
    )
    business_date = PlausibleDateField(
        label="業務日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, counters: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = counters  # type: ignore[attr-defined]
        self.today = today

    def clean_business_date(self) -> date | None:
        day: date | None = self.cleaned_data.get("business_date")
        if day is not None:
            problem = business_date_problem(day, today=self.today)
            if problem:
                raise forms.ValidationError(problem)
        return day


class CloseForm(CloseChoiceForm):
    counted_cash_yen = forms.IntegerField(
        label="現金の実査額（円）",
        min_value=0,
        max_value=MAX_COUNTED_CASH_YEN,
        error_messages={
            "min_value": f"現金の実査額は0円以上{MAX_COUNTED_CASH_YEN:,}円以下で入力してください。",
            "max_value": f"現金の実査額は0円以上{MAX_COUNTED_CASH_YEN:,}円以下で入力してください。",
        },
        widget=forms.NumberInput(attrs={"autofocus": True}),
    )
    note = forms.CharField(
        label="備考（差額があるときは必須）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counter"].required = True
        self.fields["business_date"].required = True
        # The close closes what the page shows: both come from the choice above.
        self.fields["counter"].widget = forms.HiddenInput()
        self.fields["business_date"].widget = forms.HiddenInput()


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="再開の理由（記録されます）",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True}),
    )


class PaymentsFilterForm(forms.Form):
    business_date = PlausibleDateField(
        label="領収日",
        required=False,
        earliest=FIRST_FEE_DAY,
        latest=today,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
