from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.models import Office, User
from apps.audit.models import AccessLog, Action, Purpose
from apps.residents.models import Resident
from apps.residents.services import resident_reveal_my_number
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db


def test_r_myn_1_register_normalises_what_a_clerk_types(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    resident = make_resident(office_a, my_number="１２３４ ５６７８-９０１８")
    assert resident.my_number_last4 == "9018"
    assert resident.my_number_masked == "**** **** 9018"


def test_r_myn_1_invalid_number_is_refused_and_nothing_is_written(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    with pytest.raises(ValidationError) as error:
        make_resident(office_a, my_number="123456789011")
    assert "my_number" in error.value.message_dict
    assert Resident.objects.count() == 0


def test_r_myn_2_one_number_one_resident(
    make_resident: Callable[..., Resident], office_a: Office, office_b: Office
) -> None:
    make_resident(office_a, my_number="123456789018")
    with pytest.raises(ValidationError, match="既に"):
        make_resident(office_b, my_number="1234-5678-9018")
    assert Resident.objects.count() == 1


def test_r_myn_2_reveal_is_logged_with_its_purpose(
    make_resident: Callable[..., Resident], office_a: Office, clerk_a: User
) -> None:
    resident = make_resident(office_a, my_number="123456789018")
    reveal = resident_reveal_my_number(
        acting_user=clerk_a,
        resident=resident,
        purpose=Purpose.CARD_PROCEDURE,
        authenticated_seconds_ago=10,
    )
    assert reveal.my_number == "123456789018"
    log = AccessLog.objects.get()
    assert (log.actor, log.resident, log.action, log.purpose) == (
        clerk_a,
        resident,
        Action.REVEAL_MY_NUMBER,
        Purpose.CARD_PROCEDURE,
    )
    assert log.office == office_a
    assert "123456789018" not in str(log.detail)


@pytest.mark.parametrize("persona", ["clerk_b", "auditor"])
def test_r_myn_2_reveal_refused_outside_office_or_role(
    request: pytest.FixtureRequest,
    persona: str,
    make_resident: Callable[..., Resident],
    office_a: Office,
) -> None:
    user = request.getfixturevalue(persona)
    resident = make_resident(office_a)
    with pytest.raises(PermissionDenied):
        resident_reveal_my_number(
            acting_user=user, resident=resident, purpose=Purpose.AUDIT, authenticated_seconds_ago=1
        )
    assert AccessLog.objects.count() == 0


def test_r_myn_2_reveal_needs_a_purpose(
    make_resident: Callable[..., Resident], office_a: Office, clerk_a: User
) -> None:
    resident = make_resident(office_a)
    with pytest.raises(ValidationError):
        resident_reveal_my_number(
            acting_user=clerk_a, resident=resident, purpose="curiosity", authenticated_seconds_ago=1
        )
    assert AccessLog.objects.count() == 0


def test_flagged_address_keeps_the_latest_return(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    from datetime import date

    from apps.residents.services import resident_flag_address

    resident = make_resident(office_a)
    resident_flag_address(acting_user=FIXTURES, resident=resident, on=date(2026, 11, 20))
    resident_flag_address(acting_user=FIXTURES, resident=resident, on=date(2026, 11, 1))
    resident.refresh_from_db()
    assert resident.address_flagged_on == date(2026, 11, 20)
