"""Demo residents for the procedures on a card in use, one in each situation, so that
`make run` shows every one (each named in README's demo list):

- 電子　証明 (14): under 15, AUTH at the representative's request, SIGNING refused;
- 電子　十五 turns 15 today: may add SIGNING (R-CRT-3);
- 後見　和夫: an adult ward, SIGNING refused (R-CRT-2);
- 停止　一郎: suspended by the call centre's feed; lift it at counter 1 after a read of
  ``madoguchi-agent simulate --auth-serial a0002`` (R-SUS-1/2);
- 廃止　二郎: suspended, then cancelled (廃止): lifting refused (R-SUS-2);
- 紛失　三郎: reported lost and found again: goes back only through lifting;
- 暗証　四郎: AUTH and text PINs locked (a card read showed it): lock release (R-PIN-1);
- 代理　五郎: an ordinary proxy's lock release waiting for the answered letter;
- 返納　六郎: leaving Japan, returns the card (its certificates end, R-CRT-5).

Everything goes in through the services, as at the counter.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from apps.accounts.models import Office, User
from apps.applications.card_services import (
    Applicant,
    LockReleaseInput,
    ReturnInput,
    card_return,
    lock_release_receive,
)
from apps.applications.rules import ApplicantType, IdentityDocument, ReturnReason
from apps.cards.models import Card
from apps.cards.rules import CardState, SuspensionReason
from apps.cards.services import card_arrive, card_hand_over, card_order
from apps.cards.suspensions import FeedRecord, suspension_record_receive
from apps.certificates.rules import CertificateKind, PinKind
from apps.certificates.services import (
    card_end,
    certificate_issue,
    pin_state_observe,
    pin_states_initialize,
)
from apps.core.service import SystemActor
from apps.residents.models import Resident
from apps.residents.rules import my_number_check_digit
from apps.residents.services import ResidentData, resident_register

DEMO = SystemActor("manage.py seed_demo")
CALL_CENTRE = SystemActor("suspension_feed:デモ コールセンター")
LIFT_AUTH_SERIAL = "a0002"  # `madoguchi-agent simulate --auth-serial a0002`
PHOTO_ID = frozenset({IdentityDocument.DRIVERS_LICENSE})


def _resident(
    office: Office, n: int, family: str, given: str, kana: tuple[str, str], **data: object
) -> Resident:
    fields: dict[str, object] = {
        "resident_code": f"4{n:010d}",  # 4…: apps.demo.seed_changes has 3…
        "family_name": family,
        "given_name": given,
        "family_name_kana": kana[0],
        "given_name_kana": kana[1],
        "birth_date": date(1980, 4, 1),
        "sex": "1",
        "address": f"みどり市本町2丁目{n}番1号",
        "postal_code": "053-0022",
    }
    fields.update(data)
    first11 = f"30{n:09d}"
    return resident_register(
        acting_user=DEMO,
        office=office,
        data=ResidentData(**fields),  # type: ignore[arg-type]
        my_number=first11 + str(my_number_check_digit(first11)),
    )


def _card(resident: Resident, *, issued_on: date, auth_serial: str | None = None) -> Card:
    card = card_order(acting_user=DEMO, resident=resident, applied_on=issued_on - timedelta(20))
    card = card_arrive(acting_user=DEMO, card=card, issued_on=issued_on, arrived_on=issued_on)
    card = card_hand_over(acting_user=DEMO, card=card, on=issued_on + timedelta(days=5))
    pin_states_initialize(acting_user=DEMO, card=card)
    if auth_serial is not None:
        certificate_issue(
            acting_user=DEMO,
            card=card,
            kind=CertificateKind.AUTH,
            serial=auth_serial,
            issued_on=issued_on,
            legal_rep_requests=True,
        )
    return card


def _feed(resident: Resident, n: int, *, on: date) -> None:
    suspension_record_receive(
        acting_user=CALL_CENTRE,
        record=FeedRecord(
            record_id=f"DEMO-CC-{n:04d}",
            resident_code=resident.resident_code,
            reported_at=datetime.combine(on, time(21, 5), tzinfo=UTC),
            reason=SuspensionReason.LOST,
        ),
        source="api",
    )


def seed_card_services(*, office: Office, clerk: User, today: date) -> None:
    """The residents above, in ``office``; ``clerk`` (at a counter) takes their procedures."""
    issued = today - timedelta(days=400)
    child = _resident(
        office, 1, "電子", "証明", ("デンシ", "ショウメイ"), birth_date=date(today.year - 14, 1, 5)
    )
    _card(child, issued_on=issued, auth_serial=secrets.token_hex(8))
    # Born 15 years ago today (on 29 February the 28th: R-VAL-5's birthday then).
    fifteen = date(today.year - 15, today.month, min(today.day, 28 if today.month == 2 else 31))
    teen = _resident(office, 2, "電子", "十五", ("デンシ", "ジュウゴ"), birth_date=fifteen)
    _card(teen, issued_on=issued, auth_serial=secrets.token_hex(8))
    ward = _resident(
        office,
        3,
        "後見",
        "和夫",
        ("コウケン", "カズオ"),
        birth_date=date(1950, 6, 1),
        adult_ward=True,
        legal_representative_name="後見人 田中 一郎",
    )
    _card(ward, issued_on=issued, auth_serial=secrets.token_hex(8))

    suspended = _resident(office, 4, "停止", "一郎", ("テイシ", "イチロウ"))
    _card(suspended, issued_on=issued, auth_serial=LIFT_AUTH_SERIAL)
    _feed(suspended, 1, on=today - timedelta(days=2))

    cancelled = _resident(office, 5, "廃止", "二郎", ("ハイシ", "ジロウ"))
    card = _card(cancelled, issued_on=issued, auth_serial=secrets.token_hex(8))
    _feed(cancelled, 2, on=today - timedelta(days=20))
    card_end(
        acting_user=clerk,
        card=card,
        to_state=CardState.VOID,
        on=today - timedelta(days=10),
        reason="市による廃止",
    )

    lost = _resident(office, 6, "紛失", "三郎", ("フンシツ", "サブロウ"))
    card = _card(lost, issued_on=issued, auth_serial=secrets.token_hex(8))
    card_end(
        acting_user=clerk,
        card=card,
        to_state=CardState.LOST,
        on=today - timedelta(days=3),
        reason="紛失の届出",
    )

    locked = _resident(office, 7, "暗証", "四郎", ("アンショウ", "シロウ"))
    card = _card(locked, issued_on=issued, auth_serial=secrets.token_hex(8))
    for kind in (PinKind.AUTH, PinKind.TEXT):
        pin_state_observe(acting_user=DEMO, card=card, kind=kind, tries_left=0)

    proxied = _resident(office, 8, "代理", "五郎", ("ダイリ", "ゴロウ"))
    card = _card(proxied, issued_on=issued, auth_serial=secrets.token_hex(8))
    pin_state_observe(acting_user=DEMO, card=card, kind=PinKind.RESIDENT, tries_left=0)
    lock_release_receive(
        acting_user=clerk,
        card=card,
        data=LockReleaseInput(
            applicant=Applicant(
                applicant_type=ApplicantType.PROXY,
                applicant_name="代理 花子",
                documents=frozenset({*PHOTO_ID, IdentityDocument.PROXY_LETTER}),
            ),
            pins=frozenset({PinKind.RESIDENT}),
            card_presented=True,
        ),
        on=today - timedelta(days=1),
    )

    leaving = _resident(office, 9, "返納", "六郎", ("ヘンノウ", "ロクロウ"))
    card = _card(leaving, issued_on=issued, auth_serial=secrets.token_hex(8))
    returned = _resident(office, 10, "返納", "済子", ("ヘンノウ", "スミコ"), sex="2")
    card = _card(returned, issued_on=issued, auth_serial=secrets.token_hex(8))
    card_return(
        acting_user=clerk,
        card=card,
        data=ReturnInput(reason=ReturnReason.LEFT_JAPAN, applicant=Applicant(documents=PHOTO_ID)),
        on=today - timedelta(days=5),
    )
