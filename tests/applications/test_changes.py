"""Card changes at the counter on PostgreSQL: endorsements (R-CHG-1, R-CHG-2), the former
surname (R-CHG-3), continued use after moving in (R-CHG-4) and the foreign residents' expiry
change and special extension (R-VAL-7), each revoking SIGNING where R-CRT-4 says so."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.applications.services_changes import (
    AddressChangeInput,
    Applicant,
    ContinuedUseInput,
    ExpiryChangeInput,
    FormerSurnameInput,
    NameChangeInput,
    address_change_receive,
    continued_use_receive,
    continued_use_void_due,
    expiry_change_receive,
    former_surname_receive,
    name_change_receive,
)
from apps.cards.models import Card, ContinuedUse, Endorsement, ExpiryChange
from apps.cards.rules import CardState, ContinuedUseVoid
from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from apps.fees.rules import FeeRow
from apps.notices.job import classify_foreign
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory
from tests.actors import FIXTURES
from tests.applications.helpers import LICENSE

ON = date(2026, 11, 27)
HOLDER = Applicant(documents=LICENSE)


@pytest.fixture
def holder(make_resident: Any, office_a: Any) -> Resident:
    resident: Resident = make_resident(office_a)
    return resident


def _with_certificates(card: Card) -> Card:
    assert card.issued_on is not None
    for kind, serial in ((CertificateKind.SIGNING, "51"), (CertificateKind.AUTH, "a1")):
        certificate_issue(
            acting_user=FIXTURES,
            card=card,
            kind=kind,
            serial=f"{serial}{card.pk.hex[:8]}",
            issued_on=card.issued_on,
        )
    return card


@pytest.fixture
def card(make_card: Any, holder: Resident) -> Card:
    return _with_certificates(
        make_card(holder, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    )


def _cert_states(card: Card) -> dict[str, str]:
    return {c.kind: c.state for c in Certificate.objects.filter(card=card)}


# --- R-CHG-1: address and name -------------------------------------------------------------------


def test_r_chg_1_address_change_endorses_and_revokes_signing(
    clerk_a: User, holder: Resident, card: Card
) -> None:
    application = address_change_receive(
        acting_user=clerk_a,
        resident=holder,
        data=AddressChangeInput(applicant=HOLDER, address="みどり市本町2丁目3番4号"),
        on=ON,
    )
    assert application.kind == ApplicationKind.ADDRESS_CHANGE
    assert application.state == ApplicationState.DONE
    assert application.fee_row == FeeRow.CARD_CHANGE_FREE
    assert application.fee_amount_yen == 0
    holder.refresh_from_db()
    assert holder.address == "みどり市本町2丁目3番4号"
    entry = Endorsement.objects.get(card=card)
    assert entry.seq == 1
    assert entry.chip_rewritten
    assert entry.written_by == clerk_a
    assert "令和8年11月27日" in entry.text
    assert "住所変更 みどり市本町2丁目3番4号" in entry.text
    assert application.endorsement == entry
    # R-CRT-4: SIGNING revoked, AUTH stays.
    assert _cert_states(card) == {
        CertificateKind.SIGNING: CertificateState.REVOKED,
        CertificateKind.AUTH: CertificateState.ACTIVE,
    }


def test_r_chg_1_name_change_endorses_and_revokes_signing(
    clerk_a: User, holder: Resident, card: Card
) -> None:
    name_change_receive(
        acting_user=clerk_a,
        resident=holder,
        data=NameChangeInput(
            applicant=HOLDER,
            family_name="佐藤",
            given_name="花子",
            family_name_kana="サトウ",
            given_name_kana="ハナコ",
        ),
        on=ON,
    )
    holder.refresh_from_db()
    assert holder.family_name == "佐藤"
    assert holder.search_kana == "サトウハナコ"
    assert "氏名変更 佐藤 花子" in Endorsement.objects.get(card=card).text
    assert _cert_states(card)[CertificateKind.SIGNING] == CertificateState.REVOKED


def test_r_chg_2_full_field_refuses_and_changes_nothing(
    clerk_a: User, holder: Resident, card: Card, settings: Any
) -> None:
    settings.ENDORSEMENT_CAPACITY = 2
    for n in (1, 2):
        address_change_receive(
            acting_user=clerk_a,
            resident=holder,
            data=AddressChangeInput(applicant=HOLDER, address=f"みどり市本町{n}丁目"),
            on=ON,
        )
    before = (Application.objects.count(), Endorsement.objects.count())
    with pytest.raises(ValidationError, match=r"追記欄に余白がありません.*再交付"):
        address_change_receive(
            acting_user=clerk_a,
            resident=holder,
            data=AddressChangeInput(applicant=HOLDER, address="みどり市本町9丁目"),
            on=ON,
        )
    holder.refresh_from_db()
    assert holder.address == "みどり市本町2丁目"
    assert (Application.objects.count(), Endorsement.objects.count()) == before


def test_r_chg_1_bad_input_and_other_office_change_nothing(
    clerk_a: User, clerk_b: User, holder: Resident, card: Card
) -> None:
    with pytest.raises(ValidationError) as caught:
        address_change_receive(
            acting_user=clerk_a,
            resident=holder,
            data=AddressChangeInput(applicant=Applicant(), address=""),
            on=ON,
        )
    assert "documents" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        address_change_receive(
            acting_user=clerk_b,
            resident=holder,
            data=AddressChangeInput(applicant=HOLDER, address="みどり市本町1丁目"),
            on=ON,
        )
    assert not Endorsement.objects.exists()
    assert _cert_states(card)[CertificateKind.SIGNING] == CertificateState.ACTIVE


def test_r_chg_1_suspended_card_is_not_written(clerk_a: User, holder: Resident, card: Card) -> None:
    Card.objects.filter(pk=card.pk).update(state=CardState.SUSPENDED)
    with pytest.raises(ValidationError, match="一時停止"):
        address_change_receive(
            acting_user=clerk_a,
            resident=holder,
            data=AddressChangeInput(applicant=HOLDER, address="みどり市本町1丁目"),
            on=ON,
        )


# --- R-CHG-3 -------------------------------------------------------------------------------------


def test_r_chg_3_former_surname_on_the_card_in_use(
    clerk_a: User, holder: Resident, card: Card
) -> None:
    former_surname_receive(
        acting_user=clerk_a,
        resident=holder,
        data=FormerSurnameInput(
            applicant=HOLDER, former_surname="鈴木", former_surname_kana="スズキ"
        ),
        on=ON,
    )
    card.refresh_from_db()
    assert card.former_surname_listed
    assert "旧氏併記 山田 [鈴木] 花子" in Endorsement.objects.get(card=card).text
    assert _cert_states(card)[CertificateKind.SIGNING] == CertificateState.REVOKED
    with pytest.raises(ValidationError, match="既に旧氏"):
        former_surname_receive(
            acting_user=clerk_a, resident=holder, data=FormerSurnameInput(applicant=HOLDER), on=ON
        )


def test_r_chg_3_needs_a_former_surname(clerk_a: User, holder: Resident, card: Card) -> None:
    with pytest.raises(ValidationError, match="旧氏が住民票に記載されていない"):
        former_surname_receive(
            acting_user=clerk_a, resident=holder, data=FormerSurnameInput(applicant=HOLDER), on=ON
        )


# --- R-CHG-4 -------------------------------------------------------------------------------------

MOVED_IN = ON - timedelta(days=3)


def _move_in(**overrides: Any) -> ContinuedUseInput:
    data: dict[str, Any] = {
        "applicant": HOLDER,
        "planned_move_out_on": MOVED_IN - timedelta(days=2),
        "moved_in_on": MOVED_IN,
        "move_in_notice_on": ON,
        "address": "みどり市緑町5丁目6番",
        "register_now": True,
    }
    data.update(overrides)
    return ContinuedUseInput(**data)


def test_r_chg_4_registered_with_the_notice(clerk_a: User, holder: Resident, card: Card) -> None:
    result = continued_use_receive(acting_user=clerk_a, resident=holder, data=_move_in(), on=ON)
    assert result.voided is None
    record = ContinuedUse.objects.get(card=card)
    assert record.registered_on == ON
    assert record.register_by == ON + timedelta(days=90)
    holder.refresh_from_db()
    assert holder.address == "みどり市緑町5丁目6番"
    assert "転入（継続利用） みどり市緑町5丁目6番" in Endorsement.objects.get(card=card).text
    assert _cert_states(card)[CertificateKind.SIGNING] == CertificateState.REVOKED
    card.refresh_from_db()
    assert card.state == CardState.ACTIVE


def test_r_chg_4_notice_15_days_after_moving_in_voids_the_card(
    clerk_a: User, holder: Resident, card: Card
) -> None:
    result = continued_use_receive(
        acting_user=clerk_a,
        resident=holder,
        data=_move_in(
            moved_in_on=ON - timedelta(days=15), planned_move_out_on=ON - timedelta(days=15)
        ),
        on=ON,
    )
    assert result.voided is ContinuedUseVoid.LATE_MOVE_IN_NOTICE
    card.refresh_from_db()
    assert card.state == CardState.VOID
    assert set(_cert_states(card).values()) == {CertificateState.REVOKED}  # R-CRT-5
    assert not Endorsement.objects.exists()


def test_r_chg_4_second_visit_on_day_90_registers_day_91_is_void(
    clerk_a: User, holder: Resident, card: Card, make_resident: Any, make_card: Any, office_a: Any
) -> None:
    continued_use_receive(
        acting_user=clerk_a, resident=holder, data=_move_in(register_now=False), on=ON
    )
    record = ContinuedUse.objects.get(card=card)
    assert record.registered_on is None
    assert not Endorsement.objects.exists()
    day_90 = ON + timedelta(days=90)
    continued_use_receive(
        acting_user=clerk_a, resident=holder, data=ContinuedUseInput(applicant=HOLDER), on=day_90
    )
    record.refresh_from_db()
    assert record.registered_on == day_90

    other = make_resident(office_a, family_name_kana="タナカ")
    other_card = _with_certificates(
        make_card(other, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    )
    continued_use_receive(
        acting_user=clerk_a, resident=other, data=_move_in(register_now=False), on=ON
    )
    result = continued_use_receive(
        acting_user=clerk_a,
        resident=other,
        data=ContinuedUseInput(applicant=HOLDER),
        on=day_90 + timedelta(days=1),
    )
    assert result.voided is ContinuedUseVoid.NOT_REGISTERED_IN_TIME
    other_card.refresh_from_db()
    assert other_card.state == CardState.VOID


def test_r_chg_4_daily_job_voids_past_the_deadline_once(
    clerk_a: User, holder: Resident, card: Card
) -> None:
    continued_use_receive(
        acting_user=clerk_a, resident=holder, data=_move_in(register_now=False), on=ON
    )
    day_90 = ON + timedelta(days=90)
    assert continued_use_void_due(on=day_90) == 0
    card.refresh_from_db()
    assert card.state == CardState.ACTIVE
    assert continued_use_void_due(on=day_90 + timedelta(days=1)) == 1
    assert continued_use_void_due(on=day_90 + timedelta(days=1)) == 0  # idempotent
    card.refresh_from_db()
    assert card.state == CardState.VOID
    record = ContinuedUse.objects.get(card=card)
    assert record.void_reason == ContinuedUseVoid.NOT_REGISTERED_IN_TIME


def test_r_chg_4_expired_card_cannot_be_continued(
    clerk_a: User, holder: Resident, card: Card
) -> None:
    assert card.expires_on is not None
    with pytest.raises(ValidationError, match="有効期限"):
        continued_use_receive(
            acting_user=clerk_a,
            resident=holder,
            data=_move_in(),
            on=card.expires_on + timedelta(days=1),
        )


# --- R-VAL-7 -------------------------------------------------------------------------------------

STAY_END = date(2027, 1, 31)


@pytest.fixture
def foreigner_card(make_resident: Any, make_card: Any, office_a: Any) -> Card:
    resident = make_resident(
        office_a,
        family_name_kana="グエン",
        nationality="VN",
        residence=Residence(category=ResidenceCategory.MID_LONG_TERM, period_ends_on=STAY_END),
        birth_date=date(1995, 6, 1),
    )
    return _with_certificates(
        make_card(resident, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    )


def test_r_val_7_expiry_change_moves_the_card_not_the_certificates(
    clerk_a: User, foreigner_card: Card
) -> None:
    assert foreigner_card.expires_on == STAY_END
    certs = {c.kind: c.expires_on for c in Certificate.objects.filter(card=foreigner_card)}
    expiry_change_receive(
        acting_user=clerk_a,
        resident=foreigner_card.resident,
        data=ExpiryChangeInput(
            applicant=HOLDER, new_period_ends_on=date(2030, 1, 31), proof="在留カード"
        ),
        on=ON,
    )
    foreigner_card.refresh_from_db()
    assert foreigner_card.expires_on == date(2030, 1, 31)
    assert not foreigner_card.expiry_extended
    assert {c.kind: c.expires_on for c in Certificate.objects.filter(card=foreigner_card)} == certs
    change = ExpiryChange.objects.get(card=foreigner_card)
    assert change.proof == "在留カード"
    assert change.old_expires_on == STAY_END
    foreigner_card.resident.refresh_from_db()
    assert foreigner_card.resident.period_of_stay_ends_on == date(2030, 1, 31)


def test_r_val_7_special_extension_once(clerk_a: User, foreigner_card: Card) -> None:
    data = ExpiryChangeInput(
        applicant=HOLDER,
        new_period_ends_on=date(2027, 3, 31),
        proof="申請受付票",
        application_pending=True,
    )
    expiry_change_receive(
        acting_user=clerk_a, resident=foreigner_card.resident, data=data, special=True, on=ON
    )
    foreigner_card.refresh_from_db()
    assert foreigner_card.expires_on == date(2027, 3, 31)
    assert foreigner_card.expiry_extended
    with pytest.raises(ValidationError, match="1回限り"):
        expiry_change_receive(
            acting_user=clerk_a,
            resident=foreigner_card.resident,
            data=ExpiryChangeInput(
                applicant=HOLDER,
                new_period_ends_on=date(2027, 5, 31),
                proof="申請受付票",
                application_pending=True,
            ),
            special=True,
            on=ON,
        )


def test_r_val_7_special_extension_needs_proof_and_two_months_at_most(
    clerk_a: User, foreigner_card: Card
) -> None:
    for pending, until in ((False, date(2027, 3, 31)), (True, date(2027, 4, 1))):
        with pytest.raises(ValidationError):
            expiry_change_receive(
                acting_user=clerk_a,
                resident=foreigner_card.resident,
                data=ExpiryChangeInput(
                    applicant=HOLDER,
                    new_period_ends_on=until,
                    proof="申請受付票",
                    application_pending=pending,
                ),
                special=True,
                on=ON,
            )
    foreigner_card.refresh_from_db()
    assert foreigner_card.expires_on == STAY_END


def test_r_not_3_reminder_stops_once_the_change_is_made(
    clerk_a: User, foreigner_card: Card
) -> None:
    """R-NOT-3: the stay reminder stops once the expiry is changed (R-VAL-7 ②)."""
    window = (ON, ON + timedelta(days=92))
    stay, _ = classify_foreign(window=window)
    assert foreigner_card.pk in stay
    expiry_change_receive(
        acting_user=clerk_a,
        resident=foreigner_card.resident,
        data=ExpiryChangeInput(
            applicant=HOLDER,
            new_period_ends_on=date(2027, 3, 31),
            proof="申請受付票",
            application_pending=True,
        ),
        special=True,
        on=ON,
    )
    stay, national = classify_foreign(window=window)
    assert foreigner_card.pk not in stay
    assert foreigner_card.pk not in national


def test_r_chg_4_the_beat_task_runs_the_job(clerk_a: User, holder: Resident, card: Card) -> None:
    from apps.applications.tasks import continued_use_void_due_task
    from config.celery import app

    assert app.conf.beat_schedule["applications-continued-use-void-due"]["task"] == (
        continued_use_void_due_task.name
    )
    continued_use_receive(
        acting_user=clerk_a, resident=holder, data=_move_in(register_now=False), on=ON
    )
    day_91 = (ON + timedelta(days=91)).isoformat()
    assert continued_use_void_due_task.apply(kwargs={"on": day_91}).get() == 1
    assert continued_use_void_due_task.apply(kwargs={"on": day_91}).get() == 0
    card.refresh_from_db()
    assert card.state == CardState.VOID
