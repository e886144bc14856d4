"""The clerk's forms for the procedures on a card in use. They parse; the services decide.
No PIN field anywhere (R-PIN-3): the PINs are typed by the resident on the national terminal."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.applications.card_service_models import (
    CERTIFICATE_ACTION_CHOICES,
    RETURN_REASON_CHOICES,
)
from apps.applications.card_services import Applicant
from apps.applications.forms import applicant_name_field, applicant_type_field, documents_field
from apps.applications.rules import ApplicantType
from apps.applications.services import documents_from
from apps.certificates.models import CERTIFICATE_KIND_CHOICES, PIN_KIND_CHOICES

_PROXY_NAME = "applicant:legal_rep applicant:proxy"


class ApplicantForm(forms.Form):
    """Who stands at the counter and what was checked (shared by every procedure here)."""

    applicant_type = applicant_type_field(label="来庁者")
    applicant_name = applicant_name_field()
    documents = documents_field(label="確認した書類")
    show_when: dict[str, str] = {"applicant_name": _PROXY_NAME}
    order: tuple[str, ...] = ()

    @property
    def rows(self) -> list[tuple[Any, str]]:
        names = [*self.order, "applicant_type", "applicant_name", "documents"]
        return [(self[name], self.show_when.get(name, "")) for name in names if name in self.fields]

    def applicant(self) -> Applicant:
        data = self.cleaned_data
        return Applicant(
            applicant_type=ApplicantType(data["applicant_type"]),
            applicant_name=data.get("applicant_name", ""),
            documents=documents_from(data.get("documents", [])),
        )


class CertificateForm(ApplicantForm):
    action = forms.ChoiceField(
        label="手続", choices=CERTIFICATE_ACTION_CHOICES, widget=forms.RadioSelect
    )
    kind = forms.ChoiceField(
        label="電子証明書", choices=CERTIFICATE_KIND_CHOICES, widget=forms.RadioSelect
    )
    serial = forms.CharField(
        label="新しい電子証明書のシリアル番号（16進数）",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="統合端末で発行した電子証明書のシリアル番号",
    )
    legal_rep_requests = forms.BooleanField(
        label="法定代理人が利用者証明用電子証明書の発行を申請する（15歳未満・成年被後見人）",
        required=False,
    )
    reason = forms.CharField(label="失効の理由", max_length=200, required=False)
    order = ("action", "kind", "serial", "legal_rep_requests", "reason")
    show_when = {
        "applicant_name": _PROXY_NAME,
        "serial": "action:issue action:renew",
        "legal_rep_requests": "applicant:legal_rep",
        "reason": "action:revoke",
    }


class LockReleaseForm(ApplicantForm):
    pins = forms.MultipleChoiceField(
        label="ロック解除・再設定する暗証番号",
        choices=PIN_KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    card_presented = forms.BooleanField(label="カードの提示を受けた", required=False)
    order = ("pins", "card_presented")


class ReturnForm(ApplicantForm):
    reason = forms.ChoiceField(
        label="返納・廃止の理由", choices=RETURN_REASON_CHOICES, widget=forms.RadioSelect
    )
    note = forms.CharField(label="備考", max_length=100, required=False)
    order = ("reason", "note")
    show_when = {
        "applicant_name": _PROXY_NAME,
        "applicant_type": "reason:death reason:left_japan reason:voluntary",
        "documents": "reason:death reason:left_japan reason:voluntary",
    }


class LiftForm(ApplicantForm):
    # The counter's card read the screen saw (absent until the card is on the reader).
    read_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class AnswerForm(forms.Form):
    letter_code = forms.CharField(
        label="照会番号（照会書兼回答書に印字）",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    documents = documents_field(label="代理人について確認した書類")
