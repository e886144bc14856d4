from __future__ import annotations

from django import forms

from apps.audit.models import Purpose
from apps.residents.rules import normalize_my_number


class KanaSearchForm(forms.Form):
    kana = forms.CharField(
        label="氏名(カナ)",
        max_length=120,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "data-search-focus": True,
                "placeholder": "ヤマダ ハナコ",
                "autocomplete": "off",
            }
        ),
    )
    birth_date = forms.DateField(
        label="生年月日", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("kana") and not data.get("birth_date"):
            raise forms.ValidationError("氏名(カナ)か生年月日を入力してください。")
        return data

    def ask_for_birth_date(self) -> None:
        """Too many matches: the cursor goes to the date of birth, the kana stays as typed."""
        self.fields["kana"].widget.attrs.pop("autofocus", None)
        self.fields["birth_date"].widget.attrs["autofocus"] = True


class MyNumberSearchForm(forms.Form):
    """Posted only, never a GET parameter: the number must not reach a URL (R-MYN-2)."""

    my_number = forms.CharField(
        label="個人番号(12桁)",
        max_length=20,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    purpose = forms.ChoiceField(label="利用目的", choices=Purpose.choices)

    def clean_my_number(self) -> str:
        try:
            return normalize_my_number(self.cleaned_data["my_number"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class RevealForm(forms.Form):
    purpose = forms.ChoiceField(label="利用目的", choices=Purpose.choices)
