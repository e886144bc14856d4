from django import forms

from apps.audit.models import Action
from apps.core.bounds import PlausibleDateField, today


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="操作", choices=[("", "すべて"), *Action.choices], required=False
    )
    date_from = PlausibleDateField(
        label="開始日", required=False, latest=today, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = PlausibleDateField(
        label="終了日", required=False, latest=today, widget=forms.DateInput(attrs={"type": "date"})
    )
