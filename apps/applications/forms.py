"""The clerk's forms. They parse; the services decide (and name the field that is wrong)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.applications.models import (
    APPLICANT_CHOICES,
    DOCUMENT_CHOICES,
    EXPRESS_REASON_CHOICES,
    NOTIFICATION_CARD_CHOICES,
    REASON_CHOICES,
)
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ExpressReason,
    IdentityDocument,
    NotificationCardStatus,
)
from apps.applications.services import ApplicationInput, HandoverInput, documents_from
from apps.core.bounds import PlausibleDateField
from apps.fees.models import PaymentMethod
from apps.fees.rules import ReissueReason, VoidOutcome

# Issue 10: express issuance (R-EXP-1), for the kinds that have express cases.
_EXPRESS_FIELDS = ("express", "express_reason", "express_event_on")
_EXPRESS_SHOWN = {"express_reason": "express", "express_event_on": "express"}

# Which fields each kind shows, in screen order (the first one gets the focus).
_KIND_FIELDS: dict[ApplicationKind, tuple[str, ...]] = {
    ApplicationKind.FIRST_ISSUE: (
        "applicant_type",
        "applicant_name",
        "documents",
        "with_certificates",
        "former_surname_listed",
        *_EXPRESS_FIELDS,
    ),
    ApplicationKind.RENEWAL: (
        "applicant_type",
        "applicant_name",
        "documents",
        "old_card_lost",
        "lost_at_home",
        "police_report_no",
        "with_certificates",
        "former_surname_listed",
    ),
    ApplicationKind.REISSUE: (
        "reissue_reason",
        "lost_at_home",
        "police_report_no",
        "disaster_certificate_no",
        "old_card_lost",
        "damaged_card_surrendered",
        "waiver_reason",
        "applicant_type",
        "applicant_name",
        "documents",
        "with_certificates",
        "former_surname_listed",
        *_EXPRESS_FIELDS,
    ),
}


# Fields shown only when they apply: the evidence the reason needs (R-REI-1), the proxy's
# name. Conditions are "reason:<value>", "applicant:<value>" or "old_card_lost"; the
# service checks everything again.
_PROXY_NAME = "applicant:legal_rep applicant:proxy"
_SHOW_WHEN: dict[ApplicationKind, dict[str, str]] = {
    ApplicationKind.FIRST_ISSUE: {"applicant_name": _PROXY_NAME, **_EXPRESS_SHOWN},
    ApplicationKind.REISSUE: {
        **_EXPRESS_SHOWN,
        "applicant_name": _PROXY_NAME,
        "lost_at_home": "reason:lost",
        "police_report_no": "reason:lost reason:stolen",
        "disaster_certificate_no": "reason:disaster",
        "old_card_lost": "reason:disaster",
        "damaged_card_surrendered": "reason:damaged",
        "waiver_reason": "reason:not_holder_fault",
    },
    ApplicationKind.RENEWAL: {
        "applicant_name": _PROXY_NAME,
        "lost_at_home": "old_card_lost",
        "police_report_no": "old_card_lost",
    },
}


# Who came and what was checked: the same three fields on every counter form (the reissue
# form, the handover checklist, the procedures on a card in use); only the words differ.
def applicant_type_field(*, label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=APPLICANT_CHOICES,
        widget=forms.RadioSelect,
        initial=ApplicantType.HOLDER.value,
    )


def applicant_name_field() -> forms.CharField:
    return forms.CharField(
        label="代理人の氏名",
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def documents_field(*, label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=DOCUMENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class ApplicationForm(forms.Form):
    reissue_reason = forms.ChoiceField(
        label="再交付の理由", choices=REASON_CHOICES, widget=forms.RadioSelect, required=False
    )
    lost_at_home = forms.BooleanField(label="自宅内での紛失（警察への届出なし）", required=False)
    police_report_no = forms.CharField(
        label="遺失届・盗難届の受理番号",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="紛失・盗難のときは必須（自宅内での紛失を除く）",
    )
    disaster_certificate_no = forms.CharField(
        label="罹災証明書の番号",
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="災害による再交付のときは必須",
    )
    old_card_lost = forms.BooleanField(label="旧カードを返納できない（紛失・焼失）", required=False)
    damaged_card_surrendered = forms.BooleanField(
        label="破損したカードの返納を受けた", required=False
    )
    waiver_reason = forms.CharField(
        label="手数料を免除する理由（本人の責によらない場合）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="監督者の承認後に発注されます",
    )
    applicant_type = applicant_type_field(label="申請者")
    applicant_name = applicant_name_field()
    documents = documents_field(label="確認した書類")
    with_certificates = forms.BooleanField(
        label="電子証明書の発行を希望する", required=False, initial=True
    )
    former_surname_listed = forms.BooleanField(label="旧氏を併記する", required=False)
    # Issue 10: express issuance (R-EXP-1…3).
    express = forms.BooleanField(
        label="特急発行（J-LISが約1週間で作成し、住所へ書留で送付）", required=False
    )
    express_reason = forms.ChoiceField(
        label="特急発行の事由",
        choices=EXPRESS_REASON_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    express_event_on = PlausibleDateField(
        label="起算日（転入届・紛失届の日等。1歳未満は不要）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="起算日の翌日から30日以内に申請できます",
    )

    def __init__(self, *args: Any, kind: ApplicationKind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        wanted = _KIND_FIELDS[kind]
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        self.order_fields(wanted)
        first = self.fields[wanted[0]]
        first.widget.attrs["autofocus"] = True
        if kind is ApplicationKind.RENEWAL:
            self.fields[
                "police_report_no"
            ].help_text = "旧カードを紛失している場合は必須（自宅内での紛失を除く）"

    def rows(self) -> list[tuple[forms.BoundField, str]]:
        """Each field with the condition under which the screen shows it ("" = always)."""
        show_when = _SHOW_WHEN.get(self.kind, {})
        return [(self[name], show_when.get(name, "")) for name in self.fields]

    def to_input(self) -> ApplicationInput:
        data = dict(self.cleaned_data)
        reason = data.get("reissue_reason") or None
        # Fields the screen hid for the chosen reason keep whatever was typed before the
        # reason changed; they must not count (the clerk cannot see an error on them).
        show_when = _SHOW_WHEN.get(self.kind, {})
        facts = {f"reason:{reason}", f"applicant:{data.get('applicant_type')}"}
        if data.get("old_card_lost"):
            facts.add("old_card_lost")
        if data.get("express"):
            facts.add("express")
        for name, conditions in show_when.items():
            shown = any(condition in facts for condition in conditions.split())
            if not shown and name in data:
                data[name] = False if isinstance(data[name], bool) else ""
        return ApplicationInput(
            kind=self.kind,
            applicant_type=ApplicantType(data["applicant_type"]),
            applicant_name=data.get("applicant_name", ""),
            documents=documents_from(data.get("documents", [])),
            old_card_returned=not data.get("old_card_lost", False),
            reissue_reason=ReissueReason(reason) if reason else None,
            lost_at_home=data.get("lost_at_home", False),
            police_report_no=data.get("police_report_no", ""),
            disaster_certificate_no=data.get("disaster_certificate_no", ""),
            damaged_card_surrendered=data.get("damaged_card_surrendered", False),
            with_certificates=data.get("with_certificates", False),
            waiver_reason=data.get("waiver_reason", ""),
            former_surname_listed=data.get("former_surname_listed", False),
            express=data.get("express", False),
            express_reason=(
                ExpressReason(data["express_reason"]) if data.get("express_reason") else None
            ),
            express_event_on=data.get("express_event_on"),
        )


class PaymentForm(forms.Form):
    """The method chosen on the application page; it leads to the confirmation, not a payment."""

    method = forms.ChoiceField(
        label="支払方法", choices=PaymentMethod.choices, initial=PaymentMethod.CASH.value
    )


class PaymentConfirmForm(PaymentForm):
    """The confirmation that records the payment (item: payment is a deliberate step).

    ``submission`` is generated when the confirmation is shown: a double click or a re-sent
    form carries the same value and gets the first receipt back instead of a second payment.
    A payment posted without it (not from the confirmation) is refused.
    """

    submission = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "確認画面で金額と支払方法を確かめてから領収してください。",
            "invalid": "確認画面で金額と支払方法を確かめてから領収してください。",
        },
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="取下げの理由", max_length=200)


class PaymentVoidForm(forms.Form):
    """The supervisor voids a receipt and says what happens to its application."""

    outcome = forms.ChoiceField(
        label="取消後の申請の扱い",
        widget=forms.RadioSelect(attrs={"autofocus": True}),
        choices=[(outcome.value, outcome.label) for outcome in VoidOutcome],
        error_messages={"required": "取消後の申請の扱いを選んでください。"},
    )
    reason = forms.CharField(
        label="取消の理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, settles_application: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not settles_application:
            # A receipt without an application: the money is refunded, nothing else moves.
            field = self.fields["outcome"]
            field.choices = [(VoidOutcome.REFUND_CANCEL.value, "返金する（申請に紐づかない領収）")]  # type: ignore[attr-defined]
            field.initial = VoidOutcome.REFUND_CANCEL.value


class HandoverForm(forms.Form):
    """The handover checklist. There is deliberately no PIN field (R-PIN-3)."""

    applicant_type = applicant_type_field(label="受け取りに来た方")
    documents = documents_field(label="本人確認に使った書類")
    legal_rep_present = forms.BooleanField(
        label="法定代理人が同行している（15歳未満の方）", required=False
    )
    pins_set = forms.BooleanField(
        label="暗証番号の設定が済んだ（暗証番号は記録しません）", required=False
    )
    notification_card = forms.ChoiceField(
        label="通知カード",
        choices=NOTIFICATION_CARD_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    old_card_returned = forms.BooleanField(label="旧カードの返納を受けた", required=False)
    reference_code = forms.CharField(
        label="交付通知書の整理番号（QRコードを読み取るか入力）",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "latin"}),
    )
    extra_identity_check = forms.BooleanField(
        label="交付通知書の持参がないため、追加の本人確認を行った", required=False
    )
    second_document = forms.ChoiceField(
        label="同姓同名の方がいるため確認した2点目の本人確認書類",
        choices=[("", "（同姓同名の警告がないときは不要）"), *DOCUMENT_CHOICES],
        required=False,
    )

    def __init__(
        self, *args: Any, kind: ApplicationKind, old_card_in_hand: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if kind is not ApplicationKind.FIRST_ISSUE:
            del self.fields["notification_card"]
        if not old_card_in_hand:
            del self.fields["old_card_returned"]
        self.fields["applicant_type"].widget.attrs["autofocus"] = True

    def to_input(self) -> HandoverInput:
        data = self.cleaned_data
        notification = data.get("notification_card") or None
        return HandoverInput(
            documents=documents_from(data.get("documents", [])),
            applicant_type=ApplicantType(data["applicant_type"]),
            pins_set=data.get("pins_set", False),
            legal_rep_present=data.get("legal_rep_present", False),
            notification_card=NotificationCardStatus(notification) if notification else None,
            old_card_returned=data.get("old_card_returned", False),
            reference_code=data.get("reference_code", ""),
            extra_identity_check=data.get("extra_identity_check", False),
            second_document=(
                IdentityDocument(data["second_document"]) if data.get("second_document") else None
            ),
        )


class ArrivalFileForm(forms.Form):
    file = forms.FileField(
        label="カード到着データ（CSV）",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv", "autofocus": True}),
    )
