"""Demo residents for the card changes and express issuance (issue 10): one in each
situation, so that `make run` shows every procedure. They go in through the counter's own
services, acting as the office's demo clerk.

Resident-register codes 30000000001… (the showcase is 10000000001, the random city 2…).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.conf import settings

from apps.accounts.models import Office, User
from apps.applications.rules import ApplicationKind, ExpressReason, IdentityDocument
from apps.applications.services import ApplicationInput, application_pay, application_receive
from apps.applications.services_changes import (
    AddressChangeInput,
    Applicant,
    ContinuedUseInput,
    ExpiryChangeInput,
    address_change_receive,
    continued_use_receive,
    expiry_change_receive,
)
from apps.applications.services_express import application_express_posted
from apps.cards.models import Card
from apps.cards.services import card_arrive, card_hand_over, card_order
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue, pin_states_initialize
from apps.core.service import SystemActor
from apps.fees.rules import ReissueReason
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory, my_number_check_digit
from apps.residents.services import ResidentData, resident_register

DEMO = SystemActor("manage.py seed_demo")
HOLDER = Applicant(documents=frozenset({IdentityDocument.DRIVERS_LICENSE}))


def _numbers() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        first11 = f"9{n:010d}"
        yield first11 + str(my_number_check_digit(first11))


def _resident(office: Office, code: int, numbers: Iterator[str], **data: Any) -> Resident:
    fields: dict[str, Any] = {
        "resident_code": f"3{code:010d}",
        "family_name": "窓口",
        "given_name": "花子",
        "family_name_kana": "マドグチ",
        "given_name_kana": "ハナコ",
        "birth_date": date(1980, 7, 7),
        "sex": "2",
        "address": "みどり市旭町2丁目2番2号",
        "postal_code": "053-0001",
    }
    fields.update(data)
    return resident_register(
        acting_user=DEMO, office=office, data=ResidentData(**fields), my_number=next(numbers)
    )


def _card(resident: Resident, *, today: date, years_ago: int = 2) -> Card:
    applied = today - timedelta(days=365 * years_ago + 30)
    issued = applied + timedelta(days=21)
    card = card_order(acting_user=DEMO, resident=resident, applied_on=applied)
    card = card_arrive(acting_user=DEMO, card=card, issued_on=issued, arrived_on=issued)
    card = card_hand_over(acting_user=DEMO, card=card, on=issued + timedelta(days=7))
    for kind in (CertificateKind.AUTH, CertificateKind.SIGNING):
        certificate_issue(
            acting_user=DEMO, card=card, kind=kind, serial=secrets.token_hex(9), issued_on=issued
        )
    pin_states_initialize(acting_user=DEMO, card=card)
    return card


def create_change_residents(*, office: Office, clerk: User, today: date) -> None:
    """One resident per situation of issue 10's items 1–4 and 9 (given names say which)."""
    numbers = _numbers()

    # R-CHG-1: ready for an address or name change (one entry already written).
    moved = _resident(office, 1, numbers, given_name="転居", given_name_kana="テンキョ")
    _card(moved, today=today)
    address_change_receive(
        acting_user=clerk,
        resident=moved,
        data=AddressChangeInput(applicant=HOLDER, address="みどり市旭町3丁目3番3号"),
        on=today - timedelta(days=200),
    )

    # R-CHG-2: the endorsement field is full; the screen offers the free reissue.
    full = _resident(office, 2, numbers, given_name="満欄", given_name_kana="マンラン")
    _card(full, today=today, years_ago=4)
    for n in range(int(settings.ENDORSEMENT_CAPACITY)):
        address_change_receive(
            acting_user=clerk,
            resident=full,
            data=AddressChangeInput(applicant=HOLDER, address=f"みどり市錦町{n + 1}丁目1番"),
            on=today - timedelta(days=300 - 60 * n),
        )

    # R-CHG-3: a former surname on the register, not yet on the card.
    married = _resident(
        office,
        3,
        numbers,
        given_name="旧氏",
        given_name_kana="キュウシ",
        former_surname="鈴木",
        former_surname_kana="スズキ",
    )
    _card(married, today=today)

    # R-CHG-4: moved in from another city; the move-in recorded, continued use due within
    # the next 14 days (the due list shows her).
    due = _resident(office, 4, numbers, given_name="継続", given_name_kana="ケイゾク")
    _card(due, today=today)
    continued_use_receive(
        acting_user=clerk,
        resident=due,
        data=ContinuedUseInput(
            applicant=HOLDER,
            planned_move_out_on=today - timedelta(days=84),
            moved_in_on=today - timedelta(days=82),
            move_in_notice_on=today - timedelta(days=80),
            address="みどり市美園町4丁目4番",
            register_now=False,
        ),
        on=today - timedelta(days=80),
    )
    # R-CHG-4: just moved in, comes with the move-in notice (the clerk types the dates).
    arriving = _resident(office, 5, numbers, given_name="転入", given_name_kana="テンニュウ")
    _card(arriving, today=today)

    # R-VAL-7: a foreign resident whose card ends with the stay in 40 days (expiry change),
    # and one already extended into the special period (no second extension, no reminder).
    for code, given, kana, extend in ((6, "MAI", "マイ", False), (7, "LAN", "ラン", True)):
        foreigner = _resident(
            office,
            code,
            numbers,
            family_name="TRAN",
            given_name=given,
            family_name_kana="チャン",
            given_name_kana=kana,
            nationality="VN",
            residence=Residence(
                category=ResidenceCategory.MID_LONG_TERM,
                period_ends_on=today + timedelta(days=40),
            ),
        )
        _card(foreigner, today=today)
        if extend:
            expiry_change_receive(
                acting_user=clerk,
                resident=foreigner,
                data=ExpiryChangeInput(
                    applicant=HOLDER,
                    new_period_ends_on=today + timedelta(days=70),
                    proof="在留カード裏面（在留期間更新許可申請中）",
                    application_pending=True,
                ),
                special=True,
                on=today - timedelta(days=1),
            )

    # R-EXP: a lost card applied for by express and paid (J-LIS to post it), one already
    # posted (delivery to record), and a baby under one who can apply photo-less and free.
    for code, given, kana, post in (
        (8, "特急", "トッキュウ", False),
        (9, "郵送", "ユウソウ", True),
    ):
        lost = _resident(office, code, numbers, given_name=given, given_name_kana=kana)
        _card(lost, today=today)
        application = application_receive(
            acting_user=clerk,
            resident=lost,
            data=ApplicationInput(
                kind=ApplicationKind.REISSUE,
                reissue_reason=ReissueReason.LOST,
                police_report_no=f"第{code}号",
                documents=HOLDER.documents,
                express=True,
                express_reason=ExpressReason.CARD_LOST,
                express_event_on=today - timedelta(days=10),
            ),
            on=today - timedelta(days=9),
        )
        application_pay(
            acting_user=clerk,
            application=application,
            on=today - timedelta(days=9),
            idempotency_key=f"demo-express-{code}",
        )
        if post:
            application.refresh_from_db()
            application_express_posted(
                acting_user=clerk,
                application=application,
                issued_on=today - timedelta(days=3),
                posted_on=today - timedelta(days=2),
            )
    _resident(
        office,
        10,
        numbers,
        given_name="赤ちゃん",
        given_name_kana="アカチャン",
        birth_date=today - timedelta(days=120),
    )
