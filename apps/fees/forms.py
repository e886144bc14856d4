from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.models import Counter
from apps.fees.models import PROCEDURE_CHOICES, REISSUE_REASON_CHOICES
from apps.fees.rules import FeeRow


class ScheduleForm(forms.Form):
    """A new fee schedule: its start date and one amount per R-REI row."""

    starts_on = forms.DateField(
        label="適用開始日", widget=forms.DateInput(attrs={"type": "date", "autofocus": True})
    )
    note = forms.CharField(label="備考（改定の根拠など）", max_length=200, required=False)

    def __init__(self, *args: Any, initial_amounts: dict[FeeRow, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in FeeRow:
            self.fields[row.value] = forms.IntegerField(
                label=row.label, min_value=0, initial=initial_amounts.get(row, 0)
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


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="取消の理由", widget=forms.Textarea(attrs={"rows": 3, "autofocus": True})
    )


class CloseForm(forms.Form):
    counter = forms.ModelChoiceField(
        label="窓口", queryset=Counter.objects.none(), empty_label=None
    )
    business_date = forms.DateField(label="業務日", widget=forms.DateInput(attrs={"type": "date"}))
    counted_cash_yen = forms.IntegerField(
        label="現金の実査額（円）", min_value=0, widget=forms.NumberInput(attrs={"autofocus": True})
    )
    note = forms.CharField(
        label="備考（差額があるときは必須）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, counters: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = counters  # type: ignore[attr-defined]


class PaymentsFilterForm(forms.Form):
    business_date = forms.DateField(
        label="領収日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
