from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.models import User
from apps.audit.models import Action, Outcome
from apps.core.bounds import PlausibleDateField


class StaffChoice(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: Any) -> str:
        name = f"{obj.last_name} {obj.first_name}".strip()
        return f"{name}({obj.username})" if name else obj.username


class LogFilterForm(forms.Form):
    """The auditor's filters (R-AUD-1): staff, resident, action, outcome, period.

    The resident is named by its id (a link from a row, or the resident-code form, which posts):
    no personal data in the URL.
    """

    actor = StaffChoice(label="職員", queryset=User.objects.none(), required=False)
    resident = forms.UUIDField(required=False, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        label="操作", choices=[("", "すべて"), *Action.choices], required=False
    )
    outcome = forms.ChoiceField(
        label="結果", choices=[("", "すべて"), *Outcome.choices], required=False
    )
    # A period in the future simply finds nothing; a year like 0128 is a typing slip.
    date_from = PlausibleDateField(
        label="開始日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = PlausibleDateField(
        label="終了日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = staff  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("開始日は終了日より前にしてください。")
        return data

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        actor = data.get("actor")
        return {
            "action": data.get("action", ""),
            "outcome": data.get("outcome", ""),
            "actor_id": actor.pk if actor else None,
            "resident_id": data.get("resident"),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class ResidentCodeForm(forms.Form):
    resident_code = forms.RegexField(
        label="住民票コード",
        regex=r"^[0-9]{11}$",
        max_length=11,
        error_messages={"invalid": "住民票コードは11桁の数字です。"},
    )
