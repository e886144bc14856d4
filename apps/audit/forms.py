from django import forms

from apps.audit.models import Action
from apps.core.bounds import PlausibleDateField


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="操作", choices=[("", "すべて"), *Action.choices], required=False
    )
    # A period in the future simply finds nothing; a year like 0128 is a typing slip.
    date_from = PlausibleDateField(
        label="開始日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = PlausibleDateField(
        label="終了日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
