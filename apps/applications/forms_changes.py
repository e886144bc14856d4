"""The clerk's forms for the card changes (issue 10). They parse; the services decide.

Every form starts with who stands at the counter and what they showed (as the reissue form
does), then the facts of its procedure; the first field gets the focus.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from apps.applications.forms import ApplicationForm
from apps.applications.rules import ApplicantType, ApplicationKind
from apps.applications.services import documents_from
from apps.applications.services_changes import (
    AddressChangeInput,
    Applicant,
    ContinuedUseInput,
    ExpiryChangeInput,
    FormerSurnameInput,
    NameChangeInput,
)
from apps.core.bounds import PlausibleDateField

_PROXY_NAME = "applicant:legal_rep applicant:proxy"
_DATE = forms.DateInput(attrs={"type": "date"})


class _ChangeForm(forms.Form):
    # Who stands at the counter: the same fields as the card application form's.
    applicant_type = ApplicationForm.base_fields["applicant_type"]
    applicant_name = ApplicationForm.base_fields["applicant_name"]
    documents = ApplicationForm.base_fields["documents"]

    # Fields of the procedure, in screen order, before the applicant's.
    procedure_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = (*self.procedure_fields, "applicant_type", "applicant_name", "documents")
        self.order_fields(order)
        self.fields[order[0]].widget.attrs["autofocus"] = True

    def rows(self) -> list[tuple[forms.BoundField, str]]:
        """Each field with the condition under which the screen shows it ("" = always)."""
        return [
            (self[name], _PROXY_NAME if name == "applicant_name" else "") for name in self.fields
        ]

    def applicant(self) -> Applicant:
        data = self.cleaned_data
        kind = ApplicantType(data["applicant_type"])
        return Applicant(
            applicant_type=kind,
            applicant_name="" if kind is ApplicantType.HOLDER else data.get("applicant_name", ""),
            documents=documents_from(data.get("documents", [])),
        )


class AddressChangeForm(_ChangeForm):
    procedure_fields: tuple[str, ...] = ("address", "postal_code")
    address = forms.CharField(label="新しい住所", max_length=255)
    postal_code = forms.CharField(
        label="郵便番号", max_length=8, required=False, help_text="例：053-0000"
    )

    def to_input(self) -> AddressChangeInput:
        return AddressChangeInput(
            applicant=self.applicant(),
            address=self.cleaned_data["address"],
            postal_code=self.cleaned_data.get("postal_code", ""),
        )


class NameChangeForm(_ChangeForm):
    procedure_fields: tuple[str, ...] = (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
    )
    family_name = forms.CharField(label="新しい氏", max_length=60)
    given_name = forms.CharField(label="名", max_length=60)
    family_name_kana = forms.CharField(label="氏（フリガナ）", max_length=120)
    given_name_kana = forms.CharField(label="名（フリガナ）", max_length=120)

    def to_input(self) -> NameChangeInput:
        data = self.cleaned_data
        return NameChangeInput(
            applicant=self.applicant(),
            family_name=data["family_name"],
            given_name=data["given_name"],
            family_name_kana=data["family_name_kana"],
            given_name_kana=data["given_name_kana"],
        )


class FormerSurnameForm(_ChangeForm):
    procedure_fields: tuple[str, ...] = ("former_surname", "former_surname_kana")
    former_surname = forms.CharField(
        label="旧氏",
        max_length=60,
        required=False,
        help_text="住民票に旧氏が記載済のときは空欄のまま",
    )
    former_surname_kana = forms.CharField(label="旧氏（フリガナ）", max_length=120, required=False)

    def to_input(self) -> FormerSurnameInput:
        return FormerSurnameInput(
            applicant=self.applicant(),
            former_surname=self.cleaned_data.get("former_surname", ""),
            former_surname_kana=self.cleaned_data.get("former_surname_kana", ""),
        )


class ContinuedUseForm(_ChangeForm):
    procedure_fields: tuple[str, ...] = (
        "planned_move_out_on",
        "moved_in_on",
        "move_in_notice_on",
        "address",
        "postal_code",
        "register_now",
    )
    planned_move_out_on = PlausibleDateField(label="転出予定日", required=False, widget=_DATE)
    moved_in_on = PlausibleDateField(label="転入日", required=False, widget=_DATE)
    move_in_notice_on = PlausibleDateField(label="転入届の日", required=False, widget=_DATE)
    address = forms.CharField(label="新しい住所", max_length=255, required=False)
    postal_code = forms.CharField(label="郵便番号", max_length=8, required=False)
    register_now = forms.BooleanField(
        label="継続利用の手続を今回行う（カードを持参し、暗証番号を入力した）",
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, recorded: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if recorded:
            # The move-in was recorded on an earlier visit: only the registration is left.
            for name in ("planned_move_out_on", "moved_in_on", "move_in_notice_on", "address"):
                del self.fields[name]
            del self.fields["postal_code"]
            self.fields["register_now"].widget.attrs["autofocus"] = True

    def to_input(self) -> ContinuedUseInput:
        data = self.cleaned_data
        return ContinuedUseInput(
            applicant=self.applicant(),
            planned_move_out_on=data.get("planned_move_out_on"),
            moved_in_on=data.get("moved_in_on"),
            move_in_notice_on=data.get("move_in_notice_on"),
            address=data.get("address", ""),
            postal_code=data.get("postal_code", ""),
            register_now=data.get("register_now", False),
        )


class ExpiryChangeForm(_ChangeForm):
    procedure_fields: tuple[str, ...] = ("new_period_ends_on", "proof")
    new_period_ends_on = PlausibleDateField(label="新しい在留期間の満了日", widget=_DATE)
    proof = forms.CharField(
        label="確認した書類",
        max_length=200,
        help_text="例：在留カード（更新後）、在留資格変更許可の証印",
    )

    def to_input(self) -> ExpiryChangeInput:
        return ExpiryChangeInput(
            applicant=self.applicant(),
            new_period_ends_on=self.cleaned_data["new_period_ends_on"],
            proof=self.cleaned_data["proof"],
        )


class SpecialExtensionForm(ExpiryChangeForm):
    procedure_fields: tuple[str, ...] = ("new_period_ends_on", "application_pending", "proof")
    application_pending = forms.BooleanField(
        label="在留期間の更新・変更を申請中であることを確認した", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_period_ends_on"].label = "特例期間の末日（有効期限の2か月後まで）"
        self.fields["proof"].help_text = "例：在留カード裏面の申請中の記載、申請受付票"

    def to_input(self) -> ExpiryChangeInput:
        return ExpiryChangeInput(
            applicant=self.applicant(),
            new_period_ends_on=self.cleaned_data["new_period_ends_on"],
            proof=self.cleaned_data["proof"],
            application_pending=self.cleaned_data.get("application_pending", False),
        )


CHANGE_FORMS: dict[ApplicationKind, type[_ChangeForm]] = {
    ApplicationKind.ADDRESS_CHANGE: AddressChangeForm,
    ApplicationKind.NAME_CHANGE: NameChangeForm,
    ApplicationKind.FORMER_SURNAME: FormerSurnameForm,
    ApplicationKind.CONTINUED_USE: ContinuedUseForm,
    ApplicationKind.EXPIRY_CHANGE: ExpiryChangeForm,
    ApplicationKind.SPECIAL_EXTENSION: SpecialExtensionForm,
}


class ExpressStepForm(forms.Form):
    """One step of an express card's posting (R-EXP-3): the date, and the issue date when
    J-LIS posted it."""

    on = PlausibleDateField(label="日付", widget=_DATE)
    issued_on = PlausibleDateField(label="J-LISの発行日", required=False, widget=_DATE)

    def issued(self) -> date | None:
        value: date | None = self.cleaned_data.get("issued_on")
        return value
