from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.accounts.models import User
from apps.audit.models import Action, Outcome
from apps.core.bounds import PlausibleDateField


class StaffSelect(forms.Select):
    """The staff filter's ``<select>``, its options written here, not one template each.

    Every view of the log lists every member of staff the reader may filter by, hundreds in a
    big city, and Django renders each option through two templates: with 113 members of staff
    the field took 8.5 ms of a 25 ms page, 3.5 ms like this and with only the columns an
    option shows (``staff_for_audit``). Same markup as ``forms.Select`` (a test compares).
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, " selected" if str(choice) in selected else "", label)
                for choice, label in self.choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            options,
        )


class StaffChoice(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: Any) -> str:
        name = f"{obj.last_name} {obj.first_name}".strip()
        return f"{name}({obj.username})" if name else obj.username


class LogFilterForm(forms.Form):
    """The auditor's filters (R-AUD-1): staff, resident, action, outcome, period.

    The resident is named by its id (a link from a row, or the resident-code form, which posts):
    no personal data in the URL.
    """

    actor = StaffChoice(
        label="職員", queryset=User.objects.none(), required=False, widget=StaffSelect
    )
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
