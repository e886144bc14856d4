from __future__ import annotations

from django import forms
from django.utils import timezone

from apps.core.bounds import PlausibleDateField, today
from apps.notices.rules import InvalidReferenceCodeError, parse_reference_code


class ReferenceCodeForm(forms.Form):
    """The code on a letter, typed or scanned (a scanner types it and presses Enter)."""

    code = forms.CharField(
        label="整理番号",
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "data-search-focus": True,
                "placeholder": "N-00000-00001-8",
                "autocomplete": "off",
            }
        ),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        try:
            parse_reference_code(code)
        except InvalidReferenceCodeError as exc:
            raise forms.ValidationError(str(exc)) from None
        return code


class ReturnedForm(ReferenceCodeForm):
    """Record a letter that came back undeliverable (宛所不明)."""

    returned_on = PlausibleDateField(
        label="返戻を受けた日", latest=today, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["code"].widget = forms.HiddenInput()
        self.fields["returned_on"].initial = timezone.localdate()
