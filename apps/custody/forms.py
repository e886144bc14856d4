"""Forms of the custody screens (bounded inputs; the services decide)."""

from __future__ import annotations

from django import forms

from apps.core.bounds import PlausibleDateField, today
from apps.custody.models import PlaceKind


class PlaceForm(forms.Form):
    name = forms.CharField(label="名称", max_length=60)
    kind = forms.ChoiceField(label="種類", choices=PlaceKind.choices)
    sort_order = forms.IntegerField(label="並び順", min_value=0, max_value=999, initial=0)


class LotReceiveForm(forms.Form):
    arrived_on = PlausibleDateField(label="到着日", latest=today)
    place = forms.UUIDField(label="保管場所")


class MoveForm(forms.Form):
    place = forms.UUIDField(label="移動先", required=False)
    to_counter = forms.BooleanField(label="窓口へ持ち出す", required=False)


class CountForm(forms.Form):
    place = forms.UUIDField()
    counted = forms.IntegerField(label="数えた枚数", min_value=0, max_value=100_000)


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="解決の記録", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
