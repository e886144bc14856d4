from __future__ import annotations

from django import forms

from apps.accounts.models import Counter


class ApproveForm(forms.Form):
    counter = forms.ModelChoiceField(
        label="窓口",
        queryset=Counter.objects.select_related("office").order_by("office__code", "code"),
        empty_label="窓口を選択",
        error_messages={"required": "承認する窓口を選んでください。"},
    )
