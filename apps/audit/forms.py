from django import forms

from apps.audit.models import Action


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="操作", choices=[("", "すべて"), *Action.choices], required=False
    )
    date_from = forms.DateField(
        label="開始日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="終了日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
